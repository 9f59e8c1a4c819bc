"""Chart helpers for the reports: Dutch labels and number formats (reports.md).

Every helper returns a :class:`matplotlib.figure.Figure` (not registered with
pyplot, so nothing is shown twice in a notebook) that has

* a title that states what is shown ("Kosten per jaar, Noord-Limburg"),
* labelled axes with units ("kosten (€)", "aandeel (%)"), tick labels in Dutch
  notation ("€ 2,5 mln", "12%", "1.234"),
* a one-line reading aid ("Leeswijzer: ...") under the chart.

:func:`toon` displays a figure in a notebook as a PNG and closes it.
:func:`funnel` draws a funnel plot of shares against group size with binomial
control limits (:func:`funnel_grenzen`), so small groups are not ranked on noise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import fmt  # noqa: E402

#: Colours: a calm qualitative palette (colour-blind safe, Okabe-Ito based).
KLEUREN = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#8C564B"]
MARKEER = "#D55E00"
#: Fixed colours for zwaarte and variant, the same in every chart.
ZWAARTE_KLEUREN = {"Licht": "#56B4E9", "Midden": "#0072B2", "Zwaar": "#003F6E",
                   "Maatwerk": "#E69F00", "Meerwerk": "#CC79A7", "Overig": "#9A9A9A"}
GRIJS = "#9A9A9A"
BREEDTE = 9.0
HOOGTE = 4.2

_RC = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "axes.prop_cycle": matplotlib.cycler(color=KLEUREN),
}


def _as(eenheid: str) -> mticker.Formatter:
    """Tick formatter for an eenheid: euro, fractie, aantal, maanden."""
    if eenheid == "euro":
        def f(v, _pos=None):
            a = abs(v)
            if a >= 1e6:
                dec = 0 if a >= 1e7 or (a / 1e6) == round(a / 1e6) else 1
                return ("-" if v < 0 else "") + f"€ {fmt.getal(a / 1e6, dec)} mln"
            return fmt.bedrag(v)
    elif eenheid == "fractie":
        def f(v, _pos=None):
            return fmt.procent(v, 0 if abs(v * 100 - round(v * 100)) < 1e-9 else 1)
    else:
        def f(v, _pos=None):  # 0,25 stays 0,25 (never 0,2): as many decimals as the tick needs
            dec = next((d for d in range(3) if abs(v * 10 ** d - round(v * 10 ** d)) < 1e-6), 2)
            return fmt.getal(v, dec)
    return mticker.FuncFormatter(f)


def as_opmaak(ax, as_: str = "y", eenheid: str = "aantal") -> None:
    """Put Dutch tick labels for ``eenheid`` on the x or y axis of ``ax``."""
    axis = ax.yaxis if as_ == "y" else ax.xaxis
    axis.set_major_formatter(_as(eenheid))


def figuur(breedte: float = BREEDTE, hoogte: float = HOOGTE, ncols: int = 1):
    """A new figure with the report style; returns (fig, ax) or (fig, axes)."""
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(breedte, hoogte), layout="constrained")
        axes = fig.subplots(1, ncols, squeeze=True)
    fig._jeugdlib_rc = True
    return fig, axes


def afwerken(fig: Figure, ax, *, titel: str, xlabel: str | None, ylabel: str | None,
             leeswijzer: str, eenheid_y: str | None = None, eenheid_x: str | None = None) -> Figure:
    """Title, axis labels with units, Dutch ticks and the reading aid under the chart."""
    with matplotlib.rc_context(_RC):
        import textwrap

        # Wrap long titles to the axes width (about 9 bold 12-pt characters per inch)
        # instead of letting them run off the figure.
        tekens = max(30, int(ax.get_position().width * fig.get_figwidth() * 9))
        ax.set_title(textwrap.fill(titel, tekens), loc="left", fontsize=12, fontweight="bold")
        ax.set_xlabel(xlabel or "")
        ax.set_ylabel(ylabel or "")
        if eenheid_y:
            as_opmaak(ax, "y", eenheid_y)
        if eenheid_x:
            as_opmaak(ax, "x", eenheid_x)
        if _is_datum_as(ax):
            import matplotlib.dates as mdates

            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(_maand_label))
        if leeswijzer:
            breedte = int(fig.get_figwidth() * 14)
            fig.supxlabel(textwrap.fill(f"Leeswijzer: {leeswijzer}", breedte), x=0.01, ha="left", fontsize=9,
                          style="italic", color="#444444")
    return fig


def _is_datum_as(ax) -> bool:
    import matplotlib.dates as mdates

    return isinstance(ax.xaxis.get_converter(), (mdates.DateConverter, mdates._SwitchableDateConverter)) \
        if hasattr(ax.xaxis, "get_converter") else False


def _maand_label(v, _pos=None) -> str:
    """Date ticks as Dutch months: "jan 2024"."""
    import matplotlib.dates as mdates

    return fmt.maand(mdates.num2date(v).date(), kort=True)


def _label(v: float, eenheid: str) -> str:
    """Short value label on a bar: money rounded ("€ 26,1 mln"), others as :func:`fmt.waarde`."""
    if eenheid == "euro":
        return fmt.bedrag_kort(v)
    return fmt.waarde(v, eenheid)


def _legend(ax, titel: str | None = None, n: int = 1) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) > 1 or titel:
        ax.legend(title=titel, loc="upper left", bbox_to_anchor=(1.0, 1.0), ncols=n)


def _series_by(df: pd.DataFrame, x: str, y: str, groep: str | None) -> dict[str, pd.DataFrame]:
    if groep is None:
        return {"": df[[x, y]]}
    return {str(k): g[[x, y]] for k, g in df.groupby(groep, sort=False, observed=True)}


def lijnen(df: pd.DataFrame, x: str, y: str, groep: str | None = None, *, titel: str,
           xlabel: str, ylabel: str, leeswijzer: str, eenheid: str = "aantal",
           voorlopig_vanaf=None, legenda: str | None = None, markers: bool = True,
           ymin0: bool = True, voorlopig_tekst: str = "voorlopig") -> Figure:
    """Line chart of ``y`` against ``x`` (dates or period labels), one line per ``groep``.

    ``voorlopig_vanaf``: x value from which the data is voorlopig; that part is
    shaded grey and labelled, so a reader does not read the lag as a fall.
    """
    fig, ax = figuur()
    with matplotlib.rc_context(_RC):
        for i, (naam, g) in enumerate(_series_by(df, x, y, groep).items()):
            ax.plot(g[x].to_numpy(), pd.to_numeric(g[y], errors="coerce").astype(float).to_numpy(),
                    marker="o" if markers else None, markersize=3.5, linewidth=1.8,
                    color=KLEUREN[i % len(KLEUREN)], label=naam or None)
        if voorlopig_vanaf is not None:
            onvolledig_markeren(ax, voorlopig_vanaf, df[x].max(), voorlopig_tekst)
        if ymin0:
            ax.set_ylim(bottom=0)
        _legend(ax, legenda)
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_y=eenheid)


#: Shade of the onvolledige months (the same in every report).
ONVOLLEDIG_KLEUR = "#DDDDDD"


def onvolledig_markeren(ax, vanaf, tot, tekst: str = "onvolledig") -> None:
    """Shade the months from ``vanaf`` up to ``tot`` (x values of ``ax``: month dates)
    grey and label them ``tekst`` at the top: the months whose declarations have not
    all arrived yet (the measured declaration lag). Every report uses this helper, so
    the onvolledige months look the same everywhere. With monthly points, the shade
    starts half a month before ``vanaf`` and ends half a month after ``tot``."""
    v, t = pd.Timestamp(vanaf), pd.Timestamp(tot)
    if t < v:
        return
    half = pd.Timedelta(days=15)
    ax.axvspan(v - half, t + half, color=ONVOLLEDIG_KLEUR, alpha=0.6, lw=0, zorder=0)
    ax.text(v - half, 0.015, " " + tekst, transform=ax.get_xaxis_transform(),
            va="bottom", ha="left", fontsize=8, color="#333333", zorder=5)


def ruimte_boven(ax, waarden, fractie: float = 0.12) -> None:
    """Leave room above the highest value (labels and top points are not clipped)."""
    v = pd.to_numeric(pd.Series(np.ravel(np.asarray(waarden, dtype=object))), errors="coerce").dropna()
    if len(v) and float(v.max()) > 0:
        ax.set_ylim(top=float(v.max()) * (1 + fractie))


def staven(df: pd.DataFrame, x: str, y: str, groep: str | None = None, *, titel: str,
           xlabel: str, ylabel: str, leeswijzer: str, eenheid: str = "aantal",
           horizontaal: bool = False, gestapeld: bool = False, waarden: bool = False,
           legenda: str | None = None, hoogte: float | None = None,
           kleuren: Sequence[str] | dict[str, str] | None = None,
           normen: Sequence[tuple[float, str]] = ()) -> Figure:
    """Bar chart of ``y`` per ``x``; with ``groep`` grouped (or ``gestapeld``) bars.

    ``kleuren`` is a list (used in order) or a mapping group -> colour, so that the
    same category has the same colour in every chart of a report.

    ``horizontaal`` puts the categories on the y axis (for long names); then the
    value axis is x and ``xlabel``/``ylabel`` still name the category and value axis
    in that order of the call (x = category, y = value). ``waarden`` writes each
    bar's value at its end in Dutch notation. ``normen``: (position, label) pairs
    drawn as dashed vertical lines on a vertical bar chart, the position in category
    units (0 = the first bar's centre, 0,5 = the border between the first two).
    """
    cats = list(dict.fromkeys(df[x].astype(str).tolist()))
    if hoogte is None:
        hoogte = max(HOOGTE, 0.32 * len(cats) + 1.6) if horizontaal else HOOGTE
    fig, ax = figuur(hoogte=hoogte)
    vaste = dict(kleuren) if isinstance(kleuren, dict) else {}
    kleuren = KLEUREN if isinstance(kleuren, dict) else list(kleuren or KLEUREN)
    with matplotlib.rc_context(_RC):
        if groep is None:
            wide = pd.DataFrame({"": pd.to_numeric(df[y], errors="coerce").astype(float).to_numpy()},
                                index=df[x].astype(str).to_numpy())
        else:
            wide = (df.assign(**{x: df[x].astype(str)})
                    .pivot_table(index=x, columns=groep, values=y, aggfunc="sum", sort=False,
                                 observed=True)
                    .reindex(cats))
            wide = wide.astype(float)
        pos = np.arange(len(wide))
        ncol = wide.shape[1]
        breedte = 0.8 if (gestapeld or ncol == 1) else 0.8 / ncol
        onder = np.zeros(len(wide))
        for i, col in enumerate(wide.columns):
            vals = np.nan_to_num(wide[col].to_numpy(dtype=float))
            off = 0 if (gestapeld or ncol == 1) else (i - (ncol - 1) / 2) * breedte
            kw = dict(color=vaste.get(str(col), kleuren[i % len(kleuren)]), label=str(col) if groep else None)
            if horizontaal:
                bars = ax.barh(pos + off, vals, breedte, left=onder if gestapeld else None, **kw)
            else:
                bars = ax.bar(pos + off, vals, breedte, bottom=onder if gestapeld else None, **kw)
            if waarden and not gestapeld:
                ax.bar_label(bars, labels=[_label(v, eenheid) if v else "" for v in vals],
                             fontsize=8, padding=2)
            if gestapeld:
                onder = onder + vals
        if waarden and gestapeld:
            for p, tot in zip(pos, onder):
                if horizontaal:
                    ax.text(tot, p, " " + _label(tot, eenheid), va="center", fontsize=8)
                else:
                    ax.text(p, tot, _label(tot, eenheid), ha="center", va="bottom", fontsize=8)
        if waarden and not horizontaal:
            ruimte_boven(ax, onder if gestapeld else wide.to_numpy(dtype=float), 0.14)
        elif waarden and horizontaal:
            top = float(np.nanmax(onder if gestapeld else wide.to_numpy(dtype=float))) if len(wide) else 0
            if top > 0:
                ax.set_xlim(right=top * 1.18)
        if horizontaal:
            ax.set_yticks(pos, wide.index)
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
        else:
            ax.set_xticks(pos, wide.index, rotation=0 if len(cats) <= 8 else 45,
                          ha="center" if len(cats) <= 8 else "right")
            ax.grid(axis="x", visible=False)
        if normen and not horizontaal:
            for pos_, tekst_ in normen:  # the label runs along its line, clear of the value labels
                ax.axvline(pos_, color="#333333", linestyle="--", linewidth=1.1, zorder=4)
                ax.text(pos_, 0.5, tekst_, transform=ax.get_xaxis_transform(), ha="center", va="center",
                        rotation=90, fontsize=8, color="#333333", zorder=5,
                        bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5))
        if groep is not None:
            _legend(ax, legenda)
    if horizontaal:
        return afwerken(fig, ax, titel=titel, xlabel=ylabel, ylabel=xlabel, leeswijzer=leeswijzer,
                        eenheid_x=eenheid)
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_y=eenheid)


def funnel_grenzen(p0: float, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Binomial control limits of a funnel plot: p0 ± z·sqrt(p0(1-p0)/n), clipped to [0, 1].

    Normal approximation to the binomial (Spiegelhalter 2005, "Funnel plots for
    comparing institutional performance"); z = 1,96 gives the 95% limits,
    z = 3,09 the 99,8% limits.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(p0 * (1 - p0) / n)
    return np.clip(p0 - z * se, 0, 1), np.clip(p0 + z * se, 0, 1)


#: A funnel plot names at most this many points outside the 99,8% limits (the largest
#: deviations), besides the highlighted ones: at national scale dozens fall outside.
MAX_LABELS_BUITEN = 10


def funnel(df: pd.DataFrame, n: str, fractie: str, label: str, *, titel: str, xlabel: str,
           ylabel: str, leeswijzer: str, gemiddelde: float | None = None,
           markeer: str | None = None, markeer_naam: str = "eigen regio",
           alle_labels: bool = False) -> Figure:
    """Funnel plot: each group's share (``fractie``) against its size (``n``).

    ``gemiddelde`` is the reference share (default: the pooled share,
    sum(fractie x n) / sum(n)). Dashed lines are the 95% limits, solid the 99,8%
    limits (:func:`funnel_grenzen`). Groups outside the 99,8% limits are named (at most
    :data:`MAX_LABELS_BUITEN`, the largest deviations).
    ``markeer`` is a boolean column: those points are drawn in the highlight colour.
    ``alle_labels`` names every point (a handful of regions). Labels are placed so
    they do not overprint (:func:`_labels_zonder_overlap`).
    """
    d = df[[n, fractie, label] + ([markeer] if markeer else [])].copy()
    d[n] = pd.to_numeric(d[n], errors="coerce").astype(float)
    d[fractie] = pd.to_numeric(d[fractie], errors="coerce").astype(float)
    d = d.dropna(subset=[n, fractie])
    d = d[d[n] > 0]
    fig, ax = figuur()
    with matplotlib.rc_context(_RC):
        if len(d) == 0:
            ax.text(0.5, 0.5, "geen gegevens", ha="center", va="center", transform=ax.transAxes)
            return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel,
                            leeswijzer=leeswijzer, eenheid_y="fractie")
        p0 = gemiddelde if gemiddelde is not None else float((d[fractie] * d[n]).sum() / d[n].sum())
        xs = np.linspace(max(1.0, d[n].min() * 0.8), d[n].max() * 1.1, 200)
        for z, stijl_, naam in ((1.96, "--", "95%-grenzen"), (3.09, "-", "99,8%-grenzen")):
            lo, hi = funnel_grenzen(p0, xs, z)
            ax.plot(xs, lo, stijl_, color=GRIJS, linewidth=1, label=naam)
            ax.plot(xs, hi, stijl_, color=GRIJS, linewidth=1)
        ax.axhline(p0, color="#555555", linewidth=1, label=f"gemiddelde {fmt.procent(p0)}")
        eigen = d[markeer].astype(bool).to_numpy() if markeer else np.zeros(len(d), bool)
        ax.scatter(d.loc[~eigen, n], d.loc[~eigen, fractie], s=28, color=KLEUREN[0], alpha=0.8,
                   label="overige" if eigen.any() else None, zorder=3)
        if eigen.any():
            ax.scatter(d.loc[eigen, n], d.loc[eigen, fractie], s=40, color=MARKEER,
                       label=markeer_naam, zorder=4, edgecolor="white")
        lo, hi = funnel_grenzen(p0, d[n].to_numpy(), 3.09)
        w = d[fractie].to_numpy()
        buiten = (w < lo) | (w > hi)
        if buiten.sum() > MAX_LABELS_BUITEN:  # name the largest deviations only (readable, and fast)
            se = np.sqrt(np.maximum(p0 * (1 - p0), 1e-12) / d[n].to_numpy())
            afstand = np.where(buiten, np.abs(w - p0) / se, -np.inf)
            buiten = np.zeros(len(d), bool)
            buiten[np.argsort(-afstand)[:MAX_LABELS_BUITEN]] = True
        kies = buiten | eigen | bool(alle_labels)
        ax.set_ylim(bottom=0)
        ruimte_boven(ax, pd.concat([d[fractie], pd.Series([p0])]), 0.15)
        _labels_zonder_overlap(fig, ax, d.loc[kies, n].to_numpy(), d.loc[kies, fractie].to_numpy(),
                               [str(x) for x in d.loc[kies, label]])
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_y="fractie", eenheid_x="aantal")


def _labels_zonder_overlap(fig, ax, xs, ys, teksten, fontsize: int = 8) -> None:
    """Name points without overprinting: labels are placed right of their point, and a
    label that would overlap one already placed is moved down (then up) line by line,
    with a thin leader line to its point."""
    if not len(teksten):
        return
    geplaatst = []  # display-space boxes (x0, y0, x1, y1)
    volg = np.argsort(-np.asarray(ys, dtype=float))
    for i in volg:
        x, y, t = xs[i], ys[i], teksten[i]
        px, py = ax.transData.transform((x, y))
        breedte, hoogte = fontsize * 0.6 * len(t) * fig.dpi / 72, fontsize * 1.25 * fig.dpi / 72
        for stap in [0, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6]:
            oy = 3 + stap * hoogte
            box = (px + 4, py + oy, px + 4 + breedte, py + oy + hoogte)
            if not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in geplaatst):
                break
        geplaatst.append(box)
        pts = oy * 72 / fig.dpi
        ax.annotate(t, (x, y), xytext=(4, pts), textcoords="offset points", fontsize=fontsize,
                    # a plain line from the label's anchor (no clipping to the text box: the
                    # clipping costs most of a chart's drawing time with many labels)
                    arrowprops=dict(arrowstyle="-", color="#999999", lw=0.6, patchA=None, shrinkA=0,
                                    shrinkB=2) if stap else None)


def bubbels(df: pd.DataFrame, x: str, y: str, grootte: str, *, titel: str, xlabel: str,
            ylabel: str, leeswijzer: str, eenheid_x: str = "fractie", eenheid_y: str = "fractie",
            referentie: float | None = 1.0) -> Figure:
    """Bubble chart: a circle per (x, y) class with area proportional to ``grootte``.

    ``referentie`` draws dashed lines at x = y = that value (e.g. 100% of the norm).
    """
    fig, ax = figuur(hoogte=5.0)
    with matplotlib.rc_context(_RC):
        s = pd.to_numeric(df[grootte], errors="coerce").astype(float).fillna(0)
        schaal = 900 / s.max() if len(s) and s.max() > 0 else 1
        ax.scatter(df[x].astype(float), df[y].astype(float), s=s * schaal, alpha=0.55,
                   color=KLEUREN[0], edgecolor="white")
        if referentie is not None:
            ax.axvline(referentie, color=GRIJS, linestyle="--", linewidth=1)
            ax.axhline(referentie, color=GRIJS, linestyle="--", linewidth=1)
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_x=eenheid_x, eenheid_y=eenheid_y)


def punten_tegen_lijn(df: pd.DataFrame, x: str, y: str, lijn: str, klasse: str, *, titel: str,
                      xlabel: str, ylabel: str, leeswijzer: str, kleuren: dict[str, str],
                      lijn_naam: str = "capaciteit") -> Figure:
    """Points of ``y`` over ``x`` coloured by ``klasse``, with ``lijn`` drawn as a step line.

    Used for plekfinanciering: cliënten per maand against the contracted capacity,
    points coloured by deviation class.
    """
    fig, ax = figuur()
    with matplotlib.rc_context(_RC):
        d = df.sort_values(x)
        ax.step(d[x], pd.to_numeric(d[lijn], errors="coerce").astype(float), where="mid",
                color="#555555", linewidth=1.2, label=lijn_naam)
        for k, kleur in kleuren.items():
            sel = d[d[klasse] == k]
            if len(sel):
                ax.scatter(sel[x], sel[y].astype(float), s=26, color=kleur, label=k, zorder=3,
                           edgecolor="#333333", linewidth=0.4)
        ax.set_ylim(bottom=0)
        ruimte_boven(ax, pd.concat([pd.to_numeric(d[y], errors="coerce"), pd.to_numeric(d[lijn], errors="coerce")]))
        _legend(ax, None)
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_y="aantal")


def band(df: pd.DataFrame, x: str, lijnen_: dict[str, str], *, titel: str, xlabel: str,
         ylabel: str, leeswijzer: str, eenheid: str = "euro", onder: str | None = None,
         boven: str | None = None, band_naam: str = "interval", onvolledig_vanaf=None,
         onvolledig_tot=None) -> Figure:
    """Several lines over ``x`` (``lijnen_`` maps column -> legend name), with an
    optional shaded interval between columns ``onder`` and ``boven`` (forecasts).
    ``onvolledig_vanaf`` .. ``onvolledig_tot``: the onvolledige months, shaded by
    :func:`onvolledig_markeren` as in every report."""
    fig, ax = figuur()
    with matplotlib.rc_context(_RC):
        if onvolledig_vanaf is not None and onvolledig_tot is not None:
            onvolledig_markeren(ax, onvolledig_vanaf, onvolledig_tot)
        if onder and boven:
            sel = df[[x, onder, boven]].dropna()
            ax.fill_between(sel[x], sel[onder].astype(float), sel[boven].astype(float),
                            color=KLEUREN[0], alpha=0.15, lw=0, label=band_naam)
        for i, (col, naam) in enumerate(lijnen_.items()):
            sel = df[[x, col]].dropna()
            ax.plot(sel[x], sel[col].astype(float), marker="o", markersize=3, linewidth=1.6,
                    color=KLEUREN[i % len(KLEUREN)], label=naam)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), ncols=2)
    return afwerken(fig, ax, titel=titel, xlabel=xlabel, ylabel=ylabel, leeswijzer=leeswijzer,
                    eenheid_y=eenheid)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (deterministic: no timestamp metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def titel_van(fig: Figure) -> str:
    """The chart's title (the alt text of its image)."""
    return fig.axes[0].get_title(loc="left") if fig.axes else ""


def toon(fig: Figure) -> None:
    """Display ``fig`` in a notebook as a PNG image (with its title as alt text)."""
    toon_png(png(fig), titel_van(fig))


def toon_png(data: bytes, titel: str) -> None:
    """Display PNG bytes in a notebook as :func:`toon` displays a figure."""
    import base64

    from IPython.display import HTML, display

    b64 = base64.b64encode(data).decode("ascii")
    display(HTML(f'<img class="jl-grafiek" alt="{_html_attr(titel)}" '
                 f'src="data:image/png;base64,{b64}" style="max-width:100%;height:auto">'))


def gedeeld_png(map_, sleutel: str, maak) -> tuple[bytes, str]:
    """(PNG bytes, title) of a chart drawn by ``maak()`` (which returns a figure), kept in
    ``map_`` under ``sleutel`` (a hash of everything the chart shows) and read from there
    next time. For charts that are the same in every region's report of a quarterly run
    (``map_``: the run's folder): drawn once instead of 42 times. Written whole or not at
    all (a temporary file renamed), so workers drawing the same chart at once are safe."""
    import os
    from pathlib import Path

    map_ = Path(map_)
    f, t = map_ / f"{sleutel}.png", map_ / f"{sleutel}.titel"
    if f.exists() and t.exists():
        return f.read_bytes(), t.read_text(encoding="utf-8")
    fig = maak()
    data, titel = png(fig), titel_van(fig)
    try:
        map_.mkdir(parents=True, exist_ok=True)
        for pad, inhoud in ((t, titel.encode("utf-8")), (f, data)):  # the title first: f marks it complete
            tmp = pad.with_name(f".{pad.name}.{os.getpid()}.tmp")
            tmp.write_bytes(inhoud)
            os.replace(tmp, pad)
    except OSError:  # a read-only or full disk: the chart is shown all the same
        pass
    return data, titel


def _html_attr(s: str) -> str:
    return (str(s).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))
