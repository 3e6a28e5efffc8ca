"""How a text table is written: its encoding, separator and decimal mark.

Each is the one the user gave (``--encoding``, ``--sep``, ``--decimal``), else found from
the file: the encoding from its byte-order mark (UTF-8 otherwise), the separator by the
standard library's ``csv.Sniffer`` on the first lines (a tab for ``.tsv`` files), and the
decimal mark from the numbers themselves (a comma only where the values leave no doubt).
Thousands separators are never guessed: ``_numbers`` names them and the option that reads them.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

from bayesmixture.cli._errors import InputError

# Separators looked for; others only through --sep.
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
DECIMALS = (".", ",")
# The sniffer reads this many characters (whole lines) from the top of the file.
SAMPLE_CHARS = 64 * 1024
# Byte-order marks, longest first (UTF-32's starts with UTF-16's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Numbers that show their decimal mark: a comma or point followed by other than exactly three
# digits (three could be a thousands group), or after a group of thousands.
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3})+,\d+)")
_DECIMAL_POINT = re.compile(r"[+-]?(\d*\.(\d{1,2}|\d{4,})|\d{1,3}(,\d{3})+\.\d+)")


@dataclass(frozen=True)
class TextFormat:
    """How a text table was read, and which of its settings were found rather than given."""

    sep: str
    decimal: str
    thousands: str | None
    encoding: str
    found: tuple[str, ...] = ()  # names of the settings detected from the file

    def describe(self) -> str:
        """E.g. "';' separated, ',' decimals, UTF-8 with BOM"."""
        sep = "tab" if self.sep == "\t" else repr(self.sep)
        words = [f"{sep} separated", f"{self.decimal!r} decimals"]
        if self.thousands is not None:
            words.append(f"{self.thousands!r} thousands separators")
        encoding = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8"}.get(self.encoding)
        words.append(encoding or self.encoding)
        return ", ".join(words)

    def settings(self) -> dict:
        """For settings.json: the four settings and which were detected."""
        return {
            "separator": self.sep,
            "decimal": self.decimal,
            "thousands": self.thousands,
            "encoding": self.encoding,
            "detected": list(self.found),
        }


def check_format_options(sep, decimal, thousands, encoding) -> tuple:
    """The options in the form the reader takes, or InputError naming the one at fault."""
    if sep is not None:
        sep = SEPARATOR_WORDS.get(sep.lower(), sep)
        if len(sep) != 1 or sep in "\"'\n\r":
            raise InputError(
                f"--sep {sep!r} must be one character (or 'tab'), e.g. --sep ';' or --sep tab."
            )
    if decimal is not None and decimal not in DECIMALS:
        raise InputError(f"--decimal {decimal!r} must be '.' or ',', e.g. --decimal ,.")
    if thousands is not None and (len(thousands) != 1 or thousands.isalnum()):
        raise InputError(
            f"--thousands {thousands!r} must be one character, e.g. --thousands , or "
            "--thousands ' '."
        )
    if decimal is None and thousands in DECIMALS:
        decimal = "," if thousands == "." else "."  # the other mark
    if thousands is not None and thousands == decimal:
        raise InputError(
            f"--thousands {thousands!r} is also the decimal mark; pass the other one with "
            f"--decimal, e.g. --decimal {'.' if thousands == ',' else ','}."
        )
    if sep is not None and sep in (decimal, thousands):
        raise InputError(f"--sep {sep!r} is also the decimal mark or the thousands separator.")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(
                f"--encoding {encoding!r} is not an encoding Python knows; e.g. --encoding "
                "utf-8, cp1252 (Excel on Windows) or latin-1."
            ) from None
    return sep, decimal, thousands, encoding


def decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """The text of ``data`` and its encoding: the given one, else from a BOM, else UTF-8."""
    if encoding is None:
        encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    elif encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as err:
        byte = data[err.start : err.start + 1].hex()
        raise InputError(
            f"{source} is not {encoding} text (byte 0x{byte} at offset {err.start}); pass its "
            "encoding, e.g. --encoding cp1252 (Excel's CSV on Windows) or --encoding latin-1."
        ) from None


def find_separator(text: str, *, decimal: str | None, tab: bool) -> str:
    """The separator of ``text``: a tab for a .tsv file, else csv.Sniffer's choice."""
    if tab:
        return "\t"
    allowed = "".join(s for s in SEPARATORS if s != decimal)
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=allowed).delimiter
    except csv.Error:
        # one column, or too few lines to be sure: the separator the header uses most
        header = sample.lstrip("\r\n").splitlines()[0] if sample.strip() else ""
        counts = {s: header.count(s) for s in allowed}
        best = max(counts, key=counts.get)
        return best if counts[best] else allowed[0]


def find_decimal(cells: list[str], sep: str) -> str:
    """',' if the numbers show decimal commas and none shows a decimal point, else '.'."""
    if sep == ",":
        return "."  # decimal commas would need quotes in a comma-separated file
    commas = any(_DECIMAL_COMMA.fullmatch(c) for c in cells)
    points = any(_DECIMAL_POINT.fullmatch(c) for c in cells)
    return "," if commas and not points else "."
