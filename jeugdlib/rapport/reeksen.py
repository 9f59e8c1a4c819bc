"""Pick series and tables out of suppressed KPI rows (no computing, only selecting).

The KPI rows of :meth:`Rapport.kpis` are long (kpi, regio, gemeente, periode,
dimensie, waarde, eenheid, voorlopig, onderdrukt). Reports need a series over
periods, or a wide table (gemeenten or dimension values as rows, periods as
columns) with Dutch numbers; suppressed cells show ``fmt.ONDERDRUKT``.
"""

from __future__ import annotations

import pandas as pd

from .. import fmt
from .laden import Rapport


def reeks(k: pd.DataFrame, kpi: str, regio: str, *, gemeente: str = "", dimensie: str = "") -> pd.DataFrame:
    """One KPI over the periods: columns periode, waarde, onderdrukt, voorlopig (sorted)."""
    sel = k[(k["kpi"] == kpi) & (k["regio"] == regio) & (k["gemeente"] == gemeente) & (k["dimensie"] == dimensie)]
    out = sel[["periode", "waarde", "onderdrukt", "voorlopig"]].sort_values("periode").reset_index(drop=True)
    out["periode"] = out["periode"].astype(str)
    out["waarde"] = out["waarde"].astype("float64")
    out["onderdrukt"] = out["onderdrukt"].astype(bool)
    out["voorlopig"] = out["voorlopig"].astype(bool)
    return out


def periode_naam(r: Rapport, periode: str, voorlopig: bool) -> str:
    """A period label for a table header or axis: "2023", "2024 t/m juni" (voorlopig year)."""
    if voorlopig and len(periode) == 4 and int(periode) == r.laatste_dag.year:
        return f"{periode} t/m {fmt.MAANDEN[r.laatste_dag.month - 1]}"
    if voorlopig:
        return f"{fmt.periode(periode)} (voorlopig)"
    return fmt.periode(periode)


def onvolledig_vanaf(r: Rapport):
    """The first onvolledige month of the region (a Timestamp), from the measured
    declaration lag (:func:`jeugdlib.forecast.onvolledige_maanden`), or None when
    every month is complete. Every report shades from this month on
    (:func:`jeugdlib.plots.onvolledig_markeren`)."""
    if "onvolledig_vanaf" not in r._cache:
        from ..forecast import onvolledige_maanden

        o = onvolledige_maanden(r.cleaned, r.regio or "Nederland", peildatum=r.params.peildatum)
        o = o[o["onvolledig"].astype(bool)]
        r._cache["onvolledig_vanaf"] = pd.Timestamp(o["maand"].min()) if len(o) else None
    return r._cache["onvolledig_vanaf"]


def _cel(v, onderdrukt, eenheid) -> str:
    return fmt.waarde(v, eenheid, onderdrukt=bool(onderdrukt))


def breed(r: Rapport, k: pd.DataFrame, kpi: str, *, rijen: str = "gemeente", dimensie_prefix: str = "",
          eenheid: str | None = None, totaal: bool = True, gemeente: str = "") -> pd.DataFrame:
    """A wide table of formatted values: one row per gemeente (``rijen="gemeente"``)
    or per dimension value (``rijen="dimensie"``, values starting with
    ``dimensie_prefix``), one column per period; with a total row for the region.
    """
    sel = k[(k["kpi"] == kpi) & (k["regio"] == r.regio)]
    if rijen == "gemeente":
        sel = sel[sel["dimensie"] == ""]
        namen = {**r.namen(), "": f"Totaal {r.regio}"}
        naam = sel["gemeente"].astype(str).map(namen).fillna(sel["gemeente"].astype(str))
        sel = sel.assign(_rij=naam.to_numpy(), _tot=(sel["gemeente"] == "").to_numpy())
        if not totaal:
            sel = sel[~sel["_tot"]]
        kop = "Gemeente"
    else:
        sel = sel[(sel["gemeente"] == gemeente) & sel["dimensie"].str.startswith(dimensie_prefix)]
        sel = sel.assign(_rij=sel["dimensie"].str.slice(len(dimensie_prefix)).to_numpy(), _tot=False)
        kop = dimensie_prefix.rstrip("=") or "Dimensie"
    if len(sel) == 0:
        return pd.DataFrame({kop: []})
    een = eenheid or str(sel["eenheid"].iloc[0])
    perioden = sorted(sel["periode"].astype(str).unique())
    vl = dict(zip(sel["periode"].astype(str), sel["voorlopig"].astype(bool)))
    sel = sel.assign(_cel=[_cel(v, o, een) for v, o in zip(sel["waarde"], sel["onderdrukt"])])
    wide = sel.pivot_table(index=["_tot", "_rij"], columns="periode", values="_cel", aggfunc="first",
                           observed=True)
    wide = wide.reindex(columns=perioden).fillna(fmt.LEEG)
    wide = wide.sort_index(level=[0, 1])
    wide.columns = [periode_naam(r, p, vl[p]) for p in perioden]
    wide = wide.reset_index().drop(columns="_tot").rename(columns={"_rij": kop})
    return wide


def laatste(k: pd.DataFrame, kpi: str, regio: str, *, volledig: bool = True, dimensie: str = "",
            gemeente: str = "") -> tuple[str | None, float | None]:
    """(periode, waarde) of the last (complete, unless ``volledig=False``) period with a value."""
    s = reeks(k, kpi, regio, gemeente=gemeente, dimensie=dimensie)
    if volledig:
        s = s[~s["voorlopig"]]
    s = s.dropna(subset=["waarde"])
    if len(s) == 0:
        return None, None
    return s["periode"].iloc[-1], float(s["waarde"].iloc[-1])


def waarde_in(k: pd.DataFrame, kpi: str, regio: str, periode: str | None, *, dimensie: str = "",
              gemeente: str = "") -> float | None:
    """The value of a KPI in one period, None when missing or suppressed."""
    if periode is None:
        return None
    s = reeks(k, kpi, regio, gemeente=gemeente, dimensie=dimensie)
    s = s[s["periode"] == periode]
    if len(s) == 0 or bool(s["onderdrukt"].iloc[0]) or pd.isna(s["waarde"].iloc[0]):
        return None
    return float(s["waarde"].iloc[0])
