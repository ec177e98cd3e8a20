"""The app key, app secret and account of one KIS client (never shown in reprs)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import SecretStr

from stock_manager.adapters.kis.masking import Masker, mask_account, mask_secret, protect_logs


@dataclass(frozen=True)
class KisCredentials:
    app_key: SecretStr
    app_secret: SecretStr
    account_no: str  # CANO-ACNT_PRDT_CD, e.g. 12345678-01
    hts_id: str = ""

    def __repr__(self) -> str:
        return (
            f"KisCredentials(app_key={mask_secret(self.app_key.get_secret_value())}, "
            f"account_no={mask_account(self.account_no)})"
        )

    @property
    def cano(self) -> str:
        return self.account_no.partition("-")[0]

    @property
    def product_code(self) -> str:
        return self.account_no.partition("-")[2] or "01"

    @property
    def key_id(self) -> str:
        """A stable, non-secret name for the app key (store keys, limiter keys)."""
        return hashlib.sha256(self.app_key.get_secret_value().encode()).hexdigest()[:16]

    def masker(self) -> Masker:
        """A masker of these credentials; also registers them for log masking."""
        secrets = [self.app_key.get_secret_value(), self.app_secret.get_secret_value()]
        protect_logs(secrets, [self.account_no])
        return Masker(secrets, [self.account_no])
