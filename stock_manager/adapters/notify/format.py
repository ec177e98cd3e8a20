"""Turn a notice into Slack ``mrkdwn`` text: masked, escaped and kept under Slack's limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stock_manager.ports import Notice, NoticeLevel

MAX_TEXT = 3500  # Slack advises keeping ``text`` under 4,000 characters
FENCE = "```"
ICONS: dict[NoticeLevel, str] = {
    "info": ":information_source:",
    "warning": ":warning:",
    "error": ":x:",
    "critical": ":rotating_light:",
}


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """Cut ``text`` to ``limit`` characters, closing an open code block."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 20].rstrip()
    if cut.count(FENCE) % 2:
        cut += "\n" + FENCE
    return cut + "\n… (truncated)"


def format_notice(notice: Notice, masker: Callable[[str], str], notes: Sequence[str] = ()) -> str:
    """The message text: icon, bold title, body, then italic notes (repeats, drops)."""
    label = f"[{notice.level.upper()}] " if notice.level in ("error", "critical") else ""
    title = escape(masker(notice.title))
    parts = [f"{ICONS[notice.level]} {label}*{title}*"]
    if notice.text:
        parts.append(escape(masker(notice.text)))
    parts.extend(f"_{escape(masker(note))}_" for note in notes)
    return truncate("\n".join(parts))


def format_title(notice: Notice, masker: Callable[[str], str]) -> str:
    """The plain title used for an uploaded file."""
    return masker(notice.title)[:200]
