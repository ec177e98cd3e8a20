"""Notices become masked, escaped Slack text within Slack's limits."""

from __future__ import annotations

from stock_manager.adapters.notify.format import MAX_TEXT, format_notice, truncate
from stock_manager.adapters.notify.masking import Masker
from stock_manager.ports import Notice

masker = Masker(["sekrit-value-123"], accounts=["50123456-01"])


def test_title_is_bold_with_the_level_icon_and_label() -> None:
    text = format_notice(Notice("quarantine", "critical", "005930 quarantined"), masker)

    assert text == ":rotating_light: [CRITICAL] *005930 quarantined*"


def test_info_and_warning_have_no_label() -> None:
    assert format_notice(Notice("k", "info", "hi"), masker) == ":information_source: *hi*"
    assert format_notice(Notice("k", "warning", "hm"), masker) == ":warning: *hm*"


def test_slack_markup_characters_are_escaped() -> None:
    text = format_notice(Notice("k", "error", "a<b", "x > y & <module>"), masker)

    assert "a&lt;b" in text
    assert "x &gt; y &amp; &lt;module&gt;" in text


def test_title_text_and_notes_are_masked() -> None:
    notice = Notice("k", "error", "key sekrit-value-123", "acct 50123456-01")

    text = format_notice(notice, masker, notes=["token xoxb-1-2-3 seen"])

    assert "sekrit-value-123" not in text and "50123456" not in text and "xoxb-1-2-3" not in text
    assert "_token xoxb-**** seen_" in text


def test_long_text_is_truncated_and_an_open_code_block_closed() -> None:
    body = "```" + "x" * (MAX_TEXT * 2)

    text = format_notice(Notice("k", "error", "t", body), masker)

    assert len(text) <= MAX_TEXT
    assert text.count("```") == 2
    assert text.endswith("(truncated)")


def test_short_text_is_left_alone() -> None:
    assert truncate("short") == "short"
