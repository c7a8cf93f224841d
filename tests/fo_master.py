"""An instrument master of the exchange's real F&O contracts, as the brokers' dumps would list them.

The UDiFF F&O report names every contract with its exchange token (``FinInstrmId``: Angel's NFO token and Kite's
``exchange_token``), expiry, strike, lot size and the underlying's price. From one report this builds Angel's
scrip-master rows (OPTIDX/OPTSTK/FUTIDX/FUTSTK, paise as decimal text, ``20FEB2025`` expiries) and Kite's CSV
rows (``instrument_token`` = exchange token x 256 + segment 2 for NFO, as Kite numbers them), runs both through
our parsers and merges them, with the index spots from the bundled master and BSE rows (RELIANCE, SBIN, SENSEX): every contract carries both brokers'
own tokens, exactly as production's master does.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import cache
from pathlib import Path

from fo_fakes import fo_files, raw_rows
from mantra.domain import Instrument
from mantra.market.instrument_master import (
    BUNDLED_ANGEL,
    BUNDLED_KITE,
    load_dump,
    merge_dumps,
    parse_angel,
    parse_kite,
)
from mantra.market.instruments import InstrumentMaster

# BSE listings as each broker writes them (Kite: BSE RELIANCE is instrument_token 128083204, exchange_token
# 500325; Angel: token 500325, tick "5.000000" paise): NSE and BSE RELIANCE are two instruments
KITE_BSE = (
    "128083204,500325,RELIANCE,RELIANCE INDUSTRIES,1285.35,,0,0.05,1,EQ,BSE,BSE\n"
    "128028676,500112,SBIN,STATE BANK OF INDIA,812.40,,0,0.05,1,EQ,BSE,BSE\n"
    "265,1,SENSEX,SENSEX,80120.55,,0,0,0,EQ,INDICES,BSE\n"
)
ANGEL_BSE = [
    {"token": "500325", "symbol": "RELIANCE", "name": "RELIANCE", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "", "exch_seg": "BSE", "tick_size": "5.000000"},
    {"token": "500112", "symbol": "SBIN", "name": "SBIN", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "", "exch_seg": "BSE", "tick_size": "5.000000"},
    {"token": "99919000", "symbol": "SENSEX", "name": "SENSEX", "expiry": "", "strike": "-1.000000",
     "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "BSE", "tick_size": "-1.000000"},
]  # fmt: skip
_ANGEL_TYPE = {"IDO": "OPTIDX", "STO": "OPTSTK", "IDF": "FUTIDX", "STF": "FUTSTK"}
KITE_NFO_SEGMENT = 2


def _paise_text(rupees: str) -> str:
    whole, _, frac = rupees.partition(".")
    return f"{int(whole) * 100 + int((frac + '00')[:2])}.000000"


def angel_rows(path: Path) -> list[dict[str, str]]:
    out = []
    for r in raw_rows(path):
        kind = _ANGEL_TYPE[r["FinInstrmTp"]]
        expiry = date.fromisoformat(r["XpryDt"])
        strike = "-1.000000" if kind.startswith("FUT") else _paise_text(r["StrkPric"])
        suffix = "FUT" if kind.startswith("FUT") else f"{r['StrkPric'].rstrip('0').rstrip('.')}{r['OptnTp']}"
        out.append({
            "token": r["FinInstrmId"], "symbol": f"{r['TckrSymb']}{expiry:%d%b%y}".upper() + suffix,
            "name": r["TckrSymb"], "expiry": f"{expiry:%d%b%Y}".upper(), "strike": strike,
            "lotsize": r["NewBrdLotQty"], "instrumenttype": kind, "exch_seg": "NFO", "tick_size": "5.000000",
        })  # fmt: skip
    return out


def _kite_csv(contracts: list[Instrument]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike",
                "tick_size", "lot_size", "instrument_type", "segment", "exchange"])  # fmt: skip
    buf.write(KITE_BSE)
    for i in contracts:
        strike = "0" if i.strike_paise is None else f"{i.strike_paise / 100:.2f}"
        segment = "NFO-FUT" if i.instrument_type == "FUT" else "NFO-OPT"
        w.writerow([int(i.token) * 256 + KITE_NFO_SEGMENT, i.token, i.symbol, i.underlying, "0", i.expiry, strike,
                    "0.05", i.lot_size, i.instrument_type, segment, "NFO"])  # fmt: skip
    return buf.getvalue()


@cache
def real_fo_master(path: Path | None = None) -> InstrumentMaster:
    """The master of one real F&O report (the latest by default) plus the bundled cash and index rows."""
    path = path or fo_files()[-1]
    angel = parse_angel([*angel_rows(path), *ANGEL_BSE], path.name)
    assert not angel.issues, angel.issues[:3]
    kite = parse_kite(_kite_csv([i for i in angel.instruments if i.exchange == "NFO"]), path.name + " (kite)")
    assert not kite.issues, kite.issues[:3]
    bundled_angel, bundled_kite = load_dump(BUNDLED_ANGEL), load_dump(BUNDLED_KITE)
    for dump in (bundled_angel, bundled_kite):  # the sample's 2026 contracts are not this report's: cash only
        keep = [n for n, i in enumerate(dump.instruments) if i.instrument_type in ("EQ", "INDEX")]
        dump.instruments = [dump.instruments[n] for n in keep]
        dump.rows = [dump.rows[n] for n in keep]
        angel.instruments += dump.instruments if dump is bundled_angel else []
        angel.rows += dump.rows if dump is bundled_angel else []
    kite.instruments += bundled_kite.instruments
    kite.rows += bundled_kite.rows
    return merge_dumps([angel, kite]).master


def underlying_price_paise(path: Path, underlying: str) -> int:
    """The underlying's price the report states (``UndrlygPric``), in paise."""
    row = next(r for r in raw_rows(path) if r["TckrSymb"] == underlying)
    return int(_paise_text(row["UndrlygPric"]).split(".")[0])
