"""Small text helpers for turning log records into notice text."""

from __future__ import annotations

import logging
import re
import traceback

MAX_TRACEBACK = 1500
MAX_FRAMES = 6
_LIBRARY_PATH = re.compile(r'File "[^"]*?/(?:site-packages|dist-packages|lib/python3\.\d+)/')


def one_line(text: str, limit: int) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    first = text.split("\n", 1)[0].rstrip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


def compact_traceback(record: logging.LogRecord, limit: int = MAX_TRACEBACK) -> str:
    """The record's traceback: last frames only, short library paths, the tail if too long."""
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text = "".join(traceback.format_exception(error, limit=-MAX_FRAMES))
    elif record.exc_text:
        text = record.exc_text
    else:
        return ""
    text = _LIBRARY_PATH.sub('File "…/', text).strip()
    if len(text) > limit:
        text = "…" + text[-(limit - 1) :]
    return text


def describe_window(seconds: float) -> str:
    """``300`` -> ``5 min``, ``60`` -> ``1 min``, ``45`` -> ``45 s``."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"
