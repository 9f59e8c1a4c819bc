"""Cleaning: metrics.md section 0 as SQL, every rule counted.

``clean(bron, params) -> Cleaned`` runs the rules below in DuckDB over the canonical
tables of a dataset (:mod:`jeugdlib.engine`) and leaves the analysis tables in the
connection, where every KPI definition reads them:

``toewijzingen``
    the latest version of each toewijzing that exists for analysis, with its
    product, aanbieder and regio attributes and ``einddatum_eff``.
``toewijzingen_ingetrokken``
    latest versions withdrawn with RedenWijziging 13 (only verdeelsleutel counts them).
``declaraties``
    netted declaration items with their attributes; the client's number ``client_nr``,
    not its id, and none of the line fields no KPI reads (:data:`REGELVELDEN`:
    :func:`declaraties_volledig_sql` adds them, and :attr:`Cleaned.declaraties` has them).
``declaraties_afgewezen``
    the lines left out as rejected in a JW325 (rule 3), netted the same way, with
    regio, gemeentecode, client_nr, agb and periode_begin: for the rejection KPIs.
``start_stop``, ``verzoeken``
    JW305/JW307 and JW315 records with their regio.
``telling``
    records removed per rule, in order.

Toewijzingen (metrics.md 0 and 0.1). A toewijzing is (gemeentecode, toewijzing_nr).
  1. ``oudere_versie``: only its latest version is kept (highest versie_ts; on a tie
     the last one read; no stamp is oldest).
  2. ``reden_wijziging_13``: the latest version has RedenWijziging 13 (verwijderd).
  3. ``einde_voor_ingang``: einddatum < ingangsdatum.
  4. ``ingang_na_peildatum``: ingangsdatum on or after the peildatum (or empty).
  5. ``leeftijd``: age in completed years on the ingangsdatum > ``max_leeftijd``.
  6. ``exclude_agb``: aanbieder in ``params.exclude_agb``.
  A date in year 9999 means "no end" (einddatum empty).

Declaraties (metrics.md 0 and 0.2)
  1. ``periode_na_peildatum``: periode_begin on or after the peildatum (or empty).
  2. ``ingediend_na_peildatum``: declaratiedatum on or after the peildatum (lines
     without a declaratiedatum are kept).
  3. ``afgewezen``: the prestatie (or its whole declaration) was rejected in a JW325
     dated before the peildatum.
  4. ``saldering``: lines netted into items over debet and credit; key (gemeentecode,
     toewijzing_nr, client_id, productcode, periode_begin, periode_eind), without a
     ToewijzingNummer (gemeentecode, client_id, agb, productcode, periode_begin,
     periode_eind). An item takes the fields of its first debet line, else its first line.
  5. ``netto_nul_creditering``: items whose net amount is 0 because a credit cancels a debet.
  6. ``netto_nul_bedrag``: items whose net amount is 0 without any credit.
  7. ``leeftijd``: age on periode_begin > ``max_leeftijd``; the birth date comes from
     the client's toewijzingen (all versions; the last one read); unknown: kept and
     signalled.
  8. ``exclude_agb``.
A credit without any debet stays as a negative item (``credit_zonder_debet``).
An item is ``toewijzing_bekend`` when its (gemeentecode, toewijzing_nr) is a kept
toewijzing of the same client; other items count in cost, not in toewijzing-level KPIs.
``toewijzing_rij`` is then that toewijzing's ``rij``: KPIs per toewijzing join on it
(one integer instead of three strings, one of them the 64-character client id).

Start and stop (metrics.md 0.2b): a record with StatusAanlevering 3 cancels the earlier
records of the same message, aanbieder, gemeente, ToewijzingNummer and Begindatum;
both are left out and counted (``start_stop_verwijderd``).
"""

from __future__ import annotations

import dataclasses
import functools

import duckdb
import pandas as pd

from . import config, engine, schema
from .engine import run
from .config import Params

PRODUCT_ATTRS = ["productgroep", "financieringsvorm", "segment", "zwaarte", "variant",
                 "norm_uren", "norm_maanden", "tarief_cent", "trajectprijs_cent", "product_bekend"]

TELLING_COLUMNS = {"stap": schema.I, "tabel": schema.S, "regel": schema.S, "voor": schema.I,
                   "verwijderd": schema.I, "omschrijving": schema.S}


def _datum(d) -> str:
    return f"DATE '{pd.Timestamp(d).date().isoformat()}'"


def leeftijd_sql(geboortedatum: str, datum: str) -> str:
    """SQL for the age in completed years on ``datum`` (NULL when a date is missing):
    someone born 2002-09-01 is 21 on 2024-08-31 and 22 on 2024-09-01."""
    def ymd(x):
        return f"(year({x}) * 10000 + month({x}) * 100 + day({x}))"
    return f"(({ymd(datum)} - {ymd(geboortedatum)}) // 10000)"


def afgewezen_joins(d: str, sleutel: str) -> str:
    """SQL: the two LEFT JOINs that find the JW325 rejection of declaration line ``d``
    (metrics.md 0.2, rule ``afgewezen``) in ``sleutel`` (columns agb, gemeentecode,
    declaratie_nr, referentie_nr; NULL referentie_nr: the whole declaration rejected):
    alias ``h`` for the whole declaration, ``r`` for this prestatie. Equality joins on
    small DISTINCT key sets; the line is rejected when :data:`AFGEWEZEN` holds."""
    return f"""
        LEFT JOIN (SELECT DISTINCT agb, gemeentecode, declaratie_nr FROM {sleutel}
                   WHERE referentie_nr IS NULL) h  -- rejected whole
               ON h.agb = {d}.agb AND h.gemeentecode = {d}.gemeentecode AND h.declaratie_nr = {d}.declaratie_nr
        LEFT JOIN (SELECT DISTINCT agb, gemeentecode, declaratie_nr, referentie_nr FROM {sleutel}
                   WHERE referentie_nr IS NOT NULL) r  -- this prestatie rejected
               ON r.agb = {d}.agb AND r.gemeentecode = {d}.gemeentecode AND r.declaratie_nr = {d}.declaratie_nr
              AND r.referentie_nr = {d}.referentie_nr"""


#: SQL condition over :func:`afgewezen_joins`: the line was rejected.
AFGEWEZEN = "(h.declaratie_nr IS NOT NULL OR r.declaratie_nr IS NOT NULL)"


def leeftijd(geboortedatum, datum) -> pd.Series:
    """Age in completed years on ``datum`` per row (float, NaN where a date is missing)."""
    g = pd.to_datetime(pd.Series(geboortedatum)).reset_index(drop=True)
    d = pd.to_datetime(pd.Series(datum)).reset_index(drop=True)
    ymd_g = g.dt.year * 10000 + g.dt.month * 100 + g.dt.day
    ymd_d = d.dt.year * 10000 + d.dt.month * 100 + d.dt.day
    return ((ymd_d - ymd_g) // 10000).astype("float64")


#: Fields of a declaration item's first line that no KPI reads, left out of the cleaned
#: table ``declaraties``: with them the table held 0,6 GB more on the national demo (8
#: million items; the client id is 64 characters) and took 3 s longer to write.
#: :func:`declaraties_volledig_sql` joins them back where an item is shown whole.
REGELVELDEN = ("client_id", "declaratie_nr", "referentie_nr", "ijw_release")


def declaraties_volledig_sql() -> str:
    """SQL: the cleaned ``declaraties`` (alias ``d``) with the fields of
    :data:`REGELVELDEN` of the item's line (``ruw_declaraties`` row ``rij``, the line
    the item took its fields from) and the ``gemeentenaam`` (:func:`_gemeentenaam_tekst`,
    as the other cleaned tables have it)."""
    regel = ", ".join(f"r.{k}" for k in REGELVELDEN)
    return f"""
        SELECT d.*, {regel}, {_gemeentenaam_tekst('d')} AS gemeentenaam
        FROM declaraties d JOIN ruw_declaraties r USING (rij)
        LEFT JOIN gem_lookup g ON g.gemeentecode = d.gemeentecode"""


def _einde(col: str) -> str:
    """A date column with year 9999 ("no end") as NULL."""
    return f"CASE WHEN year({col}) >= 9999 THEN NULL ELSE {col} END"


@dataclasses.dataclass
class Cleaned:
    """The cleaned analysis tables, living in ``con`` (see the module docstring).

    The attributes ``toewijzingen``, ``declaraties``, ... give a table as a pandas
    frame (read once, on first use): for reports and tests on a region's data.
    KPI definitions query ``con`` instead.
    """

    con: duckdb.DuckDBPyConnection
    params: Params
    bron: object = None
    #: Periods to compute KPIs over instead of those of ``params.per`` (columns periode,
    #: begin, eind, voorlopig), e.g. one period for a whole analysis window.
    perioden_tabel: pd.DataFrame | None = None
    #: Results that depend on the cleaned tables and the peildatum only (the forecast
    #: fits), shared by the views :meth:`met_params` and :meth:`met_perioden` give.
    memo: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
    #: The connection's search path when it is a part's cursor (:meth:`deel`): another
    #: cursor (:meth:`cursor`) must see the same tables.
    zoekpad: str | None = None

    @functools.cached_property
    def toewijzingen(self) -> pd.DataFrame:
        return engine.df(self.con, "SELECT * FROM toewijzingen ORDER BY rij")

    @functools.cached_property
    def toewijzingen_ingetrokken(self) -> pd.DataFrame:
        return engine.df(self.con, "SELECT * FROM toewijzingen_ingetrokken ORDER BY rij")

    @functools.cached_property
    def declaraties(self) -> pd.DataFrame:
        """Every column of the items, with the line fields the table leaves out
        (:data:`REGELVELDEN`, :func:`declaraties_volledig_sql`)."""
        return engine.df(self.con, f"{declaraties_volledig_sql()} ORDER BY d.rij")

    @functools.cached_property
    def start_stop(self) -> pd.DataFrame:
        return engine.df(self.con, "SELECT * FROM start_stop ORDER BY rij")

    @functools.cached_property
    def verzoeken(self) -> pd.DataFrame:
        return engine.df(self.con, "SELECT * FROM verzoeken ORDER BY rij")

    def _ref(self, table: str) -> pd.DataFrame:
        out = engine.df(self.con, f"SELECT * EXCLUDE (rij) FROM {table} ORDER BY rij")
        return schema.conform(out, table.removeprefix("ref_").removeprefix("schoon_"))

    @functools.cached_property
    def producten(self) -> pd.DataFrame:
        return self._ref("ref_producten")

    @functools.cached_property
    def aanbieders(self) -> pd.DataFrame:
        return self._ref("ref_aanbieders")

    @functools.cached_property
    def gemeenten(self) -> pd.DataFrame:
        return self._ref("schoon_gemeenten")

    @functools.cached_property
    def plekken(self) -> pd.DataFrame:
        return self._ref("ref_plekken")

    @functools.cached_property
    def budgetplafonds(self) -> pd.DataFrame:
        return self._ref("ref_budgetplafonds")

    @functools.cached_property
    def bevolking(self) -> pd.DataFrame:
        return self._ref("ref_bevolking")

    @functools.cached_property
    def telling(self) -> pd.DataFrame:
        out = engine.df(self.con, """
            SELECT stap, tabel, regel, sum(voor)::BIGINT AS voor, sum(verwijderd)::BIGINT AS verwijderd, omschrijving
            FROM telling GROUP BY ALL ORDER BY min(tabel_volgorde), stap""")
        return out.astype(TELLING_COLUMNS)

    @functools.cached_property
    def signalen(self) -> dict:
        return signalen(self.con, self.params.peildatum)

    @functools.cached_property
    def dataset(self):
        """The canonical dataset this was cleaned from (for the data-quality report)."""
        from . import dataset as ds_mod

        if isinstance(self.bron, ds_mod.Dataset):
            return self.bron
        return ds_mod.load(self.bron, tables=["quarantaine", "ingest_telling", "declaraties"]) \
            if self.bron is not None else None

    def met_params(self, params: Params) -> "Cleaned":
        """The same cleaned tables with other period parameters (``per``, ``start``):
        for KPIs per quarter or month of one cleaning. Cleaning depends on the
        peildatum, max_leeftijd and exclude_agb, so those must be equal."""
        p = self.params
        if (params.peildatum, params.max_leeftijd, tuple(params.exclude_agb)) != \
                (p.peildatum, p.max_leeftijd, tuple(p.exclude_agb)):
            raise ValueError("andere peildatum, max_leeftijd of exclude_agb: opnieuw opschonen")
        return Cleaned(con=self.con, params=params, bron=self.bron, memo=self.memo, zoekpad=self.zoekpad)

    def met_perioden(self, perioden: pd.DataFrame) -> "Cleaned":
        """The same cleaned tables with KPIs computed over ``perioden`` (periode, begin,
        eind, voorlopig), e.g. one period for a whole analysis window."""
        return Cleaned(con=self.con, params=self.params, bron=self.bron, perioden_tabel=perioden, memo=self.memo,
                       zoekpad=self.zoekpad)

    def deel(self, toewijzingen: str = "true", declaraties: str = "true") -> "Cleaned":
        """A part of the cleaned data: the toewijzingen and declaraties that satisfy the
        SQL conditions (e.g. ``"regio = 'Noord-Limburg'"``, ``"agb <> '12345678'"``), as
        views on another cursor of the same database; every KPI works on it as on the
        whole. The other tables are shared."""
        global _DELEN
        _DELEN += 1
        schema_ = f"deel_{_DELEN}"
        cur = self.con.cursor()
        run(cur, f"CREATE SCHEMA {schema_}")
        run(cur, f"CREATE VIEW {schema_}.toewijzingen AS SELECT * FROM main.toewijzingen WHERE {toewijzingen}")
        run(cur, f"CREATE VIEW {schema_}.declaraties AS SELECT * FROM main.declaraties WHERE {declaraties}")
        zoekpad = f"{schema_},main"
        run(cur, f"SET search_path = '{zoekpad}'")
        return Cleaned(con=cur, params=self.params, bron=self.bron, perioden_tabel=self.perioden_tabel,
                       zoekpad=zoekpad)

    def cursor(self) -> "Cleaned":
        """The same cleaned data on a new cursor of the database, for work in another
        thread: a DuckDB connection serves one query at a time, its cursors run side by
        side. The cleaned tables and :attr:`memo` are shared; temporary tables are the
        cursor's own."""
        cur = self.con.cursor()
        if self.zoekpad:
            run(cur, f"SET search_path = '{self.zoekpad}'")
        return dataclasses.replace(self, con=cur)

    @property
    def heeft_afwijzingen(self) -> bool:
        """Whether the dataset holds any JW325 answer (else figures are ingediende bedragen)."""
        return bool(self.con.execute("SELECT count(*) FROM ruw_afwijzingen").fetchall()[0][0])

    @property
    def heeft_declaratiedatum(self) -> bool:
        """Whether declarations carry their DeclaratieDagtekening (else no receipt filter)."""
        return bool(self.con.execute(
            "SELECT count(*) FROM ruw_declaraties WHERE declaratiedatum IS NOT NULL").fetchall()[0][0])


_DELEN = 0  # numbering of the schemas of Cleaned.deel


def _gemeenten(con) -> None:
    """``schoon_gemeenten``: the dataset's gemeenten.csv, else the demo regions'."""
    n = con.execute("SELECT count(*) FROM ref_gemeenten").fetchall()[0][0]
    if n:
        run(con, "CREATE OR REPLACE TABLE schoon_gemeenten AS SELECT * FROM ref_gemeenten")
    else:
        demo = config.demo_gemeenten().assign(rij=range(len(config.demo_gemeenten())))
        con.register("_demo_gemeenten", demo)
        run(con, "CREATE OR REPLACE TABLE schoon_gemeenten AS "
                    "SELECT gemeentecode, gemeentenaam, regio_code, regio_naam, rij FROM _demo_gemeenten")
        con.unregister("_demo_gemeenten")
    # one row per code (the first), for lookups
    run(con, """
        CREATE OR REPLACE TABLE gem_lookup AS
        SELECT gemeentecode, arg_min(gemeentenaam, rij) AS gemeentenaam, arg_min(regio_naam, rij) AS regio_naam
        FROM schoon_gemeenten WHERE gemeentecode IS NOT NULL GROUP BY gemeentecode""")


def _client_nummers(con) -> None:
    """``client_nummers``(client_id, client_nr): every pseudonymised client id of the
    dataset numbered 1, 2, ... in the order of the ids. The cleaned tables carry the
    number beside the id as ``client_nr``: the KPIs count and group clients on it (an
    integer instead of a 64-character text: a third less time in every KPI that counts
    clients). The numbers follow the order of the ids, so nothing ordered by client
    changes; they are not stable across datasets (the ids are)."""
    # an empty id (possible in a dataset made by hand, never after ingest) is number 0,
    # so coalesce(client_nr, 0) joins it with a missing one, as coalesce(client_id, '') did
    run(con, """
        CREATE OR REPLACE TABLE client_nummers AS
        WITH ids AS (SELECT client_id FROM ruw_toewijzingen UNION SELECT client_id FROM ruw_declaraties
                     UNION SELECT client_id FROM ruw_start_stop UNION SELECT client_id FROM ruw_verzoeken)
        SELECT client_id, row_number() OVER (ORDER BY client_id)
                          - (SELECT count(*) FROM ids WHERE client_id = '') AS client_nr
        FROM ids WHERE client_id IS NOT NULL""")


def _regio_tekst(alias: str) -> str:
    """SQL: the regio of ``alias``.gemeentecode via ``gem_lookup g``: an unknown code is
    grouped under its own code, no code is ``onbekend`` (data-contract 1.3)."""
    return (f"CASE WHEN {alias}.gemeentecode IS NULL OR {alias}.gemeentecode = '' THEN 'onbekend' "
            f"ELSE coalesce(g.regio_naam, {alias}.gemeentecode) END")


def _gemeentenaam_tekst(alias: str) -> str:
    """SQL: the gemeentenaam of ``alias``.gemeentecode via ``gem_lookup g``: an unknown
    code is its own name, no code is ``onbekend``."""
    return (f"CASE WHEN {alias}.gemeentecode IS NULL OR {alias}.gemeentecode = '' THEN 'onbekend' "
            f"ELSE coalesce(g.gemeentenaam, {alias}.gemeentecode) END")


def _regio_sql(gemeentenaam: bool = True) -> str:
    """regio (as :data:`TEKST_TYPEN` ``t_regio``) and, when asked, gemeentenaam of a
    record, looked up in ``gem_regio gr`` (:func:`_regio_join`); a record without a
    gemeentecode gets ``onbekend``."""
    naam = ", coalesce(gr.gemeentenaam, 'onbekend') AS gemeentenaam" if gemeentenaam else ""
    return f"coalesce(gr.regio, 'onbekend'::t_regio) AS regio{naam}"


def _regio_join(alias: str) -> str:
    """SQL: the LEFT JOIN of ``gem_regio gr`` that :func:`_regio_sql` reads."""
    return f"LEFT JOIN gem_regio gr ON gr.gemeentecode = {alias}.gemeentecode"


def _gem_regio(con) -> None:
    """``gem_regio``(gemeentecode, regio, gemeentenaam): for every gemeentecode of the
    records (a few hundred) the regio (:func:`_regio_tekst`) and the gemeentenaam (an
    unknown code is its own name, an empty one ``onbekend``). The cleaned tables join it
    instead of working out the texts and the ENUM per record (8 million declaration
    items on the national demo). Its regio values are the domain of ``t_regio``, and
    :func:`_tekst_typen` turns the column into that ENUM."""
    codes = " UNION ".join(f"SELECT gemeentecode FROM ruw_{t}"
                           for t in ("toewijzingen", "declaraties", "start_stop", "verzoeken"))
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE gem_regio AS
        SELECT c.gemeentecode, {_regio_tekst('c')} AS regio, {_gemeentenaam_tekst('c')} AS gemeentenaam
        FROM ({codes}) c LEFT JOIN gem_lookup g ON g.gemeentecode = c.gemeentecode
        WHERE c.gemeentecode IS NOT NULL""")


#: The product attributes of a producten row ``p`` as the cleaned tables carry them.
PRODUCT_TEKST = {
    "productgroep": "coalesce(nullif(p.productgroep, ''), p.productcode)",
    "financieringsvorm": "nullif(lower(trim(p.financieringsvorm)), '')",
    "segment": "p.segment",
    "zwaarte": "nullif(lower(trim(p.zwaarte)), '')",
    "variant": "nullif(lower(trim(p.variant)), '')",
}

#: Text columns of the cleaned tables stored as DuckDB ENUMs, named ``t_<column>``: a
#: small integer per value instead of the text. Every KPI groups on some of them
#: (``regio`` in every roll-up), and grouping on an integer is faster: all KPIs per jaar
#: on the national demo took 20,9 s against 26,9 s with texts. Queries still see texts
#: (a comparison with a text, ``||``, ``trim()``, ``CASE`` with a text and pandas frames
#: give VARCHAR); the values are sorted, so ``ORDER BY`` orders them as texts.
TEKST_TYPEN = ("regio", *PRODUCT_TEKST, "aanbieder_type")


def _tekst_typen(con) -> None:
    """Create the ENUM types of :data:`TEKST_TYPEN` for this dataset: every value the
    cleaning can give a column (from the gemeente and product tables and the records'
    codes; a value that does not occur does no harm), sorted; then ``gem_regio``'s regio
    as ``t_regio``."""
    categorie = ("SELECT nullif(productcategorie, '') FROM ruw_toewijzingen "
                 "UNION SELECT nullif(productcategorie, '') FROM ruw_declaraties")
    domeinen = {
        # every record's regio (gem_regio); a record without a gemeentecode is 'onbekend'
        "regio": "SELECT regio FROM gem_regio UNION SELECT 'onbekend'",
        **{k: f"SELECT {v} FROM ref_producten p" for k, v in PRODUCT_TEKST.items()},
        "aanbieder_type": "SELECT 'micro' UNION SELECT 'regulier'",
    }
    # an unknown product keeps its productcategorie as productgroep (_product_cols)
    domeinen["productgroep"] += f" UNION {categorie}"
    for kolom, sql in domeinen.items():
        run(con, f"CREATE OR REPLACE TYPE t_{kolom} AS ENUM ("
                 f"SELECT DISTINCT v FROM ({sql}) AS d(v) WHERE v IS NOT NULL ORDER BY v)")
    run(con, "ALTER TABLE gem_regio ALTER COLUMN regio TYPE t_regio")


def _product_lookup(con, naam: str, bron_sql: str) -> None:
    """``naam``(productcode, datum, attributes...): for each distinct (productcode,
    datum) of ``bron_sql`` the producten row valid on the date (geldig_vanaf <= datum
    <= geldig_tot, empty = open; the latest starting valid row; on a tie the first in
    the table), else the code's latest starting row (metrics.md 0.3)."""
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE {naam} AS
        WITH k AS (SELECT DISTINCT productcode, datum FROM ({bron_sql}) WHERE productcode IS NOT NULL
                   AND productcode <> '')
        SELECT k.productcode, k.datum,
               {", ".join(f"CAST({v} AS t_{k}) AS {k}" for k, v in PRODUCT_TEKST.items())},
               p.norm_uren, p.norm_maanden, p.tarief_cent, p.trajectprijs_cent
        FROM k JOIN ref_producten p ON p.productcode = k.productcode
        QUALIFY row_number() OVER (
            PARTITION BY k.productcode, k.datum
            ORDER BY coalesce((p.geldig_vanaf IS NULL OR p.geldig_vanaf <= k.datum)
                              AND (p.geldig_tot IS NULL OR k.datum <= p.geldig_tot), false) DESC,
                     p.geldig_vanaf DESC NULLS LAST, p.rij) = 1""")


def _product_cols(alias: str, lookup: str, tarief_naam: str = "tarief_cent") -> str:
    """The product attributes of a record ``alias`` joined to ``lookup`` (alias ``pr``):
    a code not in the table keeps its productcategorie as productgroep."""
    # only an unknown product's text is cast to the ENUM (a known one's productgroep is
    # one already, never NULL): no text-to-ENUM lookup per record
    return (f"CASE WHEN pr.productcode IS NULL THEN CAST(nullif({alias}.productcategorie, '') AS t_productgroep) "
            f"ELSE pr.productgroep END AS productgroep, pr.financieringsvorm, pr.segment, pr.zwaarte, "
            f"pr.variant, pr.norm_uren, pr.norm_maanden, pr.tarief_cent AS {tarief_naam}, "
            f"pr.trajectprijs_cent, pr.productcode IS NOT NULL AS product_bekend")


def _aanbieder_lookup(con) -> None:
    """``aanb_type``(agb, aanbieder_type): the type of the AGB's first row (micro or
    regulier; anything else is regulier)."""
    run(con, """
        CREATE OR REPLACE TEMP TABLE aanb_type AS
        SELECT agb, CASE WHEN lower(trim(arg_min(type, rij))) = 'micro' THEN 'micro' ELSE 'regulier' END
               AS aanbieder_type
        FROM ref_aanbieders WHERE agb IS NOT NULL GROUP BY agb""")


def _gecontracteerd_sql(agb: str, datum: str) -> str:
    """Is the aanbieder contracted on the date: a row of aanbieders.csv with at least one
    contract date, vanaf <= datum <= tot (empty end open). Both empty = NGA."""
    return (f"EXISTS (SELECT 1 FROM ref_aanbieders a WHERE a.agb = {agb} "
            f"AND (a.gecontracteerd_vanaf IS NOT NULL OR a.gecontracteerd_tot IS NOT NULL) "
            f"AND (a.gecontracteerd_vanaf IS NULL OR a.gecontracteerd_vanaf <= {datum}) "
            f"AND (a.gecontracteerd_tot IS NULL OR {datum} <= a.gecontracteerd_tot))")


def _laatste_versie_sql() -> str:
    """SQL: the ``rij`` of the latest version of each toewijzing (gemeentecode,
    toewijzing_nr): the highest versie_ts, no stamp oldest, on a tie the last one read.
    One integer key per row (days since year 1 of versie_ts, 0 without, times 2^32, plus
    rij; rij < 2^32) and a grouped max: on the national demo 1,2 s instead of 2,4 s for
    a window ordered per toewijzing over all columns."""
    return """SELECT max_by(rij, CASE WHEN versie_ts IS NULL THEN 0 ELSE versie_ts - DATE '0001-01-01' + 1 END
                                * 4294967296 + rij)
              FROM ruw_toewijzingen GROUP BY gemeentecode, nullif(toewijzing_nr, '')"""


def _excl(params: Params, agb: str = "agb") -> str:
    """SQL: the aanbieder ``agb`` (a column) is in ``params.exclude_agb``."""
    agbs = ", ".join(engine._lit(a) for a in params.exclude_agb)
    return f"coalesce({agb} IN ({agbs}), false)" if agbs else "false"


def clean(bron, params: Params, *, con: duckdb.DuckDBPyConnection | None = None,
          gemeenten=None) -> Cleaned:
    """Apply metrics.md section 0 to a dataset; every rule counted in ``telling``.

    ``bron``: a processed dataset directory or a :class:`jeugdlib.dataset.Dataset`.
    The tables stay in ``con`` (a new connection by default): see the module docstring.
    ``gemeenten``: clean only the records of these gemeentecodes (one region's report).
    """
    con = con or engine.connect()
    engine.laad(con, bron, gemeenten)
    peil = _datum(params.peildatum)
    maxl = int(params.max_leeftijd)
    _gemeenten(con)
    _aanbieder_lookup(con)
    _client_nummers(con)
    _gem_regio(con)
    _tekst_typen(con)
    tel: list[tuple] = []

    def telling(tabel, regel, voor, weg, omschrijving):
        """One rule's counts per gemeentecode (Series aligned on the code)."""
        tel.append((tabel, regel, voor, weg, omschrijving))

    def per_gem(sql):
        """A counting query grouped by gemeentecode as a frame indexed by the code ('' = none)."""
        out = con.execute(sql).df()
        out["gemeentecode"] = out["gemeentecode"].fillna("")
        return out.set_index("gemeentecode").astype("int64")

    # ------------------------------------------------------------ toewijzingen
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE tw_laatste AS
        SELECT * REPLACE ({_einde('einddatum')} AS einddatum)
        FROM ruw_toewijzingen WHERE rij IN ({_laatste_versie_sql()})""")
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE tw_regels AS
        SELECT rij, gemeentecode,
               coalesce(trim(reden_wijziging) = '13', false) AS r13,
               coalesce(einddatum < ingangsdatum, false) AS r_evi,
               NOT coalesce(ingangsdatum < {peil}, false) AS r_laat,
               coalesce({leeftijd_sql('geboortedatum', 'ingangsdatum')} > {maxl}, false) AS r_oud,
               {_excl(params)} AS r_excl
        FROM tw_laatste""")
    n0 = per_gem("SELECT gemeentecode, count(*) AS n FROM ruw_toewijzingen GROUP BY 1")["n"]
    c = per_gem("""
        SELECT gemeentecode, count(*) AS c0,
               count(*) FILTER (r13) AS c1,
               count(*) FILTER (NOT r13 AND r_evi) AS c2,
               count(*) FILTER (NOT r13 AND NOT r_evi AND r_laat) AS c3,
               count(*) FILTER (NOT r13 AND NOT r_evi AND NOT r_laat AND r_oud) AS c4,
               count(*) FILTER (NOT r13 AND NOT r_evi AND NOT r_laat AND NOT r_oud AND r_excl) AS c5
        FROM tw_regels GROUP BY 1""").reindex(n0.index, fill_value=0)
    c = [c[f"c{i}"] for i in range(6)]
    n1 = c[0]
    telling("toewijzingen", "oudere_versie", n0, n0 - n1, "oudere versies van een toewijzing (alleen de laatste versie telt)")
    left = n1
    for regel, weg, oms in (
            ("reden_wijziging_13", c[1], "laatste versie ingetrokken (RedenWijziging 13, verwijderd)"),
            ("einde_voor_ingang", c[2], "einddatum vóór ingangsdatum"),
            ("ingang_na_peildatum", c[3], "ingangsdatum op of na de peildatum (of leeg)"),
            ("leeftijd", c[4], f"cliënt ouder dan {maxl} jaar op de ingangsdatum"),
            ("exclude_agb", c[5], "aanbieder uitgesloten (exclude_agb)")):
        telling("toewijzingen", regel, left, weg, oms)
        left = left - weg

    _product_lookup(con, "tw_product", "SELECT productcode, ingangsdatum AS datum FROM tw_laatste")
    verrijkt = f"""
        SELECT t.*, cn.client_nr,
               CASE WHEN t.einddatum IS NOT NULL AND t.einddatum < {peil} THEN t.einddatum
                    ELSE {peil} - INTERVAL 1 DAY END::DATE AS einddatum_eff,
               {_regio_sql()},
               {_product_cols('t', 'tw_product')},
               coalesce(ab.aanbieder_type, 'regulier')::t_aanbieder_type AS aanbieder_type,
               ab.agb IS NOT NULL AS aanbieder_bekend
        FROM tw_laatste t JOIN tw_regels r USING (rij)
        LEFT JOIN client_nummers cn ON cn.client_id = t.client_id
        {_regio_join('t')}
        LEFT JOIN tw_product pr ON pr.productcode = t.productcode AND pr.datum = t.ingangsdatum
        LEFT JOIN aanb_type ab ON ab.agb = t.agb"""
    run(con, f"""CREATE OR REPLACE TABLE toewijzingen AS {verrijkt}
        WHERE NOT (r.r13 OR r.r_evi OR r.r_laat OR r.r_oud OR r.r_excl)""")
    run(con, f"CREATE OR REPLACE TABLE toewijzingen_ingetrokken AS {verrijkt} WHERE r.r13")

    # ------------------------------------------------------------ declaraties
    run(con, """
        CREATE OR REPLACE TEMP TABLE geboorte AS
        SELECT cn.client_nr, g.geboortedatum FROM client_nummers cn LEFT JOIN (
            SELECT client_id, max_by(geboortedatum, rij) AS geboortedatum
            FROM ruw_toewijzingen WHERE geboortedatum IS NOT NULL AND client_id IS NOT NULL GROUP BY client_id
        ) g USING (client_id)""")
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE afgewezen_sleutel AS
        SELECT DISTINCT agb, gemeentecode, declaratie_nr, nullif(referentie_nr, '') AS referentie_nr
        FROM ruw_afwijzingen WHERE coalesce(antwoorddatum < {peil}, true)""")
    # a view: the netting below is its only reader, and scans just the Parquet columns it needs
    run(con, f"""
        CREATE OR REPLACE TEMP VIEW dec_regels AS
        SELECT d.rij, d.gemeentecode, nullif(d.toewijzing_nr, '') AS tnr, d.client_id, d.agb, d.productcode,
               d.periode_begin, d.periode_eind,
               coalesce(d.bedrag_cent_signed, 0) AS bedrag, coalesce(d.volume_signed, 0) AS volume,
               NOT coalesce(d.periode_begin < {peil}, false) AS r_laat,
               coalesce(d.declaratiedatum >= {peil}, false) AS r_ontvangen,
               {AFGEWEZEN} AS r_afgewezen
        FROM ruw_declaraties d {afgewezen_joins('d', 'afgewezen_sleutel')}""")
    # Netting (rule 4), in one pass over all lines: the rules 1-3 are group keys too, so
    # their counts come from this table (no second pass over 9 million lines) and the
    # rejected lines are netted beside the others, with their aanbieder, for the
    # rejection KPIs (declaraties_afgewezen below). Grouped on the client's number, not
    # its 64-character id (the same groups: one number per id); sums as BIGINT, which
    # every KPI sums faster than the HUGEINT sum() gives.
    run(con, """
        CREATE OR REPLACE TEMP TABLE posten AS
        SELECT gemeentecode, cn.client_nr, periode_begin, r_laat, r_ontvangen, r_afgewezen,
               CASE WHEN tnr IS NULL OR r_afgewezen THEN agb END AS agb,
               min_by(rij, (bedrag <= 0)::BIGINT * 4611686018427387904 + rij) AS rij,
               sum(bedrag)::BIGINT AS bedrag_cent, sum(volume)::BIGINT AS volume, count(*) AS n_regels,
               count(*) FILTER (bedrag > 0) AS n_debet, count(*) FILTER (bedrag < 0) AS n_credit
        FROM dec_regels LEFT JOIN client_nummers cn USING (client_id)
        GROUP BY gemeentecode, tnr, cn.client_nr, productcode, periode_begin, periode_eind,
                 CASE WHEN tnr IS NULL OR r_afgewezen THEN agb END, r_laat, r_ontvangen, r_afgewezen""")
    c = per_gem("""SELECT gemeentecode, sum(n_regels)::BIGINT AS c0, coalesce(sum(n_regels) FILTER (r_laat), 0)::BIGINT AS c1,
                          coalesce(sum(n_regels) FILTER (NOT r_laat AND r_ontvangen), 0)::BIGINT AS c2,
                          coalesce(sum(n_regels) FILTER (NOT r_laat AND NOT r_ontvangen AND r_afgewezen), 0)::BIGINT AS c3
                   FROM posten GROUP BY 1""")
    c = [c[f"c{i}"] for i in range(4)]
    left = c[0]
    for regel, weg, oms in (
            ("periode_na_peildatum", c[1], "declaratieregel met periode_begin op of na de peildatum (of leeg)"),
            ("ingediend_na_peildatum", c[2], "declaratie gedagtekend op of na de peildatum"),
            ("afgewezen", c[3], "prestatie of declaratie afgewezen in een JW325 (niet betaald)")):
        telling("declaraties", regel, left, weg, oms)
        left = left - weg
    # the rejected lines cleaning left out, netted, for the rejection KPIs (metrics.md 1):
    # only those of clients not older than max_leeftijd on periode_begin (birth date
    # unknown: kept) and of aanbieders not excluded; an empty gemeentecode is 'onbekend'
    run(con, f"""
        CREATE OR REPLACE TABLE declaraties_afgewezen AS
        SELECT {_regio_sql(gemeentenaam=False)},
               CASE WHEN p.gemeentecode IS NULL OR p.gemeentecode = '' THEN 'onbekend' ELSE p.gemeentecode END
                 AS gemeentecode,
               p.client_nr, p.agb, p.periode_begin, p.bedrag_cent
        FROM posten p {_regio_join('p')}
        LEFT JOIN geboorte gb ON gb.client_nr = p.client_nr
        WHERE p.r_afgewezen AND NOT p.r_laat AND NOT p.r_ontvangen AND NOT {_excl(params, 'p.agb')}
          AND NOT coalesce({leeftijd_sql('gb.geboortedatum', 'p.periode_begin')} > {maxl}, false)
        ORDER BY p.rij""")
    run(con, "DELETE FROM posten WHERE r_laat OR r_ontvangen OR r_afgewezen")
    c = per_gem("""
        SELECT gemeentecode, count(*) AS c0,
               count(*) FILTER (bedrag_cent = 0 AND n_credit > 0) AS c1,
               count(*) FILTER (bedrag_cent = 0 AND n_credit = 0) AS c2
        FROM posten GROUP BY 1""").reindex(left.index, fill_value=0)
    c = [c[f"c{i}"] for i in range(3)]
    n_items = c[0]
    telling("declaraties", "saldering", left, left - n_items,
            "regels samengevoegd tot één post per product en periode (debet min credit)")
    telling("declaraties", "netto_nul_creditering", n_items, c[1],
            "posten met netto bedrag 0 doordat een credit een debet opheft")
    telling("declaraties", "netto_nul_bedrag", n_items - c[1], c[2], "posten met bedrag 0")
    # Lookups for the items' attributes, over the distinct keys of all lines (a superset
    # of the items': the same rows for them, and no second pass over the items).
    _product_lookup(con, "dec_product", "SELECT productcode, periode_begin AS datum FROM ruw_declaraties")
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE contract AS
        SELECT k.agb, k.datum, {_gecontracteerd_sql('k.agb', 'k.datum')} AS gecontracteerd
        FROM (SELECT DISTINCT agb, periode_begin AS datum FROM ruw_declaraties) k""")
    # The items with their fields (those of the item's first debet line, else its first
    # line) and attributes, written once; rules 7 and 8 are flags counted on the table and
    # then deleted (writing 9 million wide rows twice costs more than one DELETE).
    run(con, f"""
        CREATE OR REPLACE TABLE declaraties AS
        SELECT d.rij, nullif(d.toewijzing_nr, '') AS toewijzing_nr, p.client_nr, d.agb, d.gemeentecode,
               d.productcode, d.productcategorie, d.periode_begin, d.periode_eind, d.eenheid, d.tarief_cent,
               p.volume, p.bedrag_cent,
               (p.n_debet = 0 AND p.bedrag_cent <> 0) AS credit_zonder_debet,
               d.declaratiedatum,
               coalesce(tw.client_nr = p.client_nr, false) AS toewijzing_bekend,
               CASE WHEN tw.client_nr = p.client_nr THEN tw.rij END AS toewijzing_rij,
               {_regio_sql(gemeentenaam=False)},
               {_product_cols('d', 'dec_product', 'product_tarief_cent')},
               coalesce(ab.aanbieder_type, 'regulier')::t_aanbieder_type AS aanbieder_type,
               ab.agb IS NOT NULL AS aanbieder_bekend,
               coalesce(k.gecontracteerd, false) AS gecontracteerd,
               date_trunc('month', d.periode_begin)::DATE AS maand,
               gb.geboortedatum IS NULL AS geboortedatum_onbekend,
               coalesce({leeftijd_sql('gb.geboortedatum', 'd.periode_begin')} > {maxl}, false) AS r_oud,
               {_excl(params, 'd.agb')} AS r_excl
        FROM posten p JOIN ruw_declaraties d USING (rij)
        LEFT JOIN geboorte gb ON gb.client_nr = p.client_nr
        LEFT JOIN toewijzingen tw ON tw.gemeentecode = d.gemeentecode AND tw.toewijzing_nr = nullif(d.toewijzing_nr, '')
        {_regio_join('d')}
        LEFT JOIN dec_product pr ON pr.productcode = d.productcode AND pr.datum = d.periode_begin
        LEFT JOIN aanb_type ab ON ab.agb = d.agb
        LEFT JOIN contract k ON k.agb = d.agb AND k.datum = d.periode_begin
        WHERE p.bedrag_cent <> 0""")
    c = per_gem("""SELECT gemeentecode, count(*) AS c0, count(*) FILTER (r_oud) AS c1,
                          count(*) FILTER (NOT r_oud AND r_excl) AS c2
                   FROM declaraties GROUP BY 1""").reindex(left.index, fill_value=0)
    telling("declaraties", "leeftijd", c["c0"], c["c1"], f"cliënt ouder dan {maxl} jaar op periode_begin")
    telling("declaraties", "exclude_agb", c["c0"] - c["c1"], c["c2"], "aanbieder uitgesloten (exclude_agb)")
    run(con, "DELETE FROM declaraties WHERE r_oud OR r_excl")
    run(con, "ALTER TABLE declaraties DROP COLUMN r_oud")
    run(con, "ALTER TABLE declaraties DROP COLUMN r_excl")

    # ------------------------------------------------------------ start/stop, verzoeken
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE ss_verwijderd AS
        WITH d AS (  -- per key its last record with StatusAanlevering 3 (NULLs equal, as in the rule)
            SELECT bericht, agb, gemeentecode, toewijzing_nr, begindatum, max(rij) AS rij
            FROM ruw_start_stop WHERE trim(status_aanlevering) = '3' GROUP BY ALL)
        SELECT s.rij FROM ruw_start_stop s
        LEFT JOIN d ON d.bericht IS NOT DISTINCT FROM s.bericht AND d.agb IS NOT DISTINCT FROM s.agb
                   AND d.gemeentecode IS NOT DISTINCT FROM s.gemeentecode
                   AND d.toewijzing_nr IS NOT DISTINCT FROM s.toewijzing_nr
                   AND d.begindatum IS NOT DISTINCT FROM s.begindatum
        -- a deletion itself, or a record with a deletion read after it (0,15 s on the
        -- national demo; a correlated EXISTS with rij > took 1,1 s)
        WHERE trim(s.status_aanlevering) = '3' OR s.rij < d.rij""")
    n_ss = per_gem("SELECT gemeentecode, count(*) AS n FROM ruw_start_stop GROUP BY 1")["n"]
    weg_ss = per_gem("SELECT s.gemeentecode, count(*) AS n FROM ruw_start_stop s "
                     "WHERE s.rij IN (SELECT rij FROM ss_verwijderd) GROUP BY 1")["n"].reindex(n_ss.index, fill_value=0)
    telling("start_stop", "start_stop_verwijderd", n_ss, weg_ss,
            "JW305/JW307 verwijderd met StatusAanlevering 3 (de verwijdering en het verwijderde record)")
    run(con, f"""
        CREATE OR REPLACE TABLE start_stop AS
        SELECT s.* REPLACE ({_einde('s.einddatum')} AS einddatum), cn.client_nr, {_regio_sql()}
        FROM ruw_start_stop s {_regio_join('s')}
        LEFT JOIN client_nummers cn ON cn.client_id = s.client_id
        WHERE s.rij NOT IN (SELECT rij FROM ss_verwijderd)""")
    run(con, f"""
        CREATE OR REPLACE TABLE verzoeken AS
        SELECT v.*, cn.client_nr, {_regio_sql()}
        FROM ruw_verzoeken v {_regio_join('v')}
        LEFT JOIN client_nummers cn ON cn.client_id = v.client_id""")

    # unknown gemeenten are grouped under their own code (data-contract 1.3): add them
    run(con, """
        INSERT INTO schoon_gemeenten
        SELECT code, code, code, code, 1000000000 + row_number() OVER (ORDER BY code) FROM (
            SELECT gemeentecode AS code FROM toewijzingen UNION SELECT gemeentecode FROM declaraties)
        WHERE code IS NOT NULL AND code <> '' AND code NOT IN (SELECT gemeentecode FROM gem_lookup)""")

    volgorde = {"toewijzingen": 0, "declaraties": 1, "start_stop": 2}
    delen, stap = [], {}
    for tabel, regel, voor, weg, oms in tel:
        stap[tabel] = stap.get(tabel, 0) + 1
        voor = pd.Series(voor, dtype="int64")
        weg = pd.Series(weg, dtype="int64").reindex(voor.index, fill_value=0)
        delen.append(pd.DataFrame({"stap": stap[tabel], "tabel": tabel, "regel": regel,
                                   "gemeentecode": voor.index.astype(str), "voor": voor.to_numpy(),
                                   "verwijderd": weg.to_numpy(), "omschrijving": oms,
                                   "tabel_volgorde": volgorde[tabel]}))
    tel_df = pd.concat(delen, ignore_index=True)
    con.register("_telling", tel_df)
    run(con, "CREATE OR REPLACE TABLE telling AS SELECT * FROM _telling")
    con.unregister("_telling")
    _opruimen(con)
    return Cleaned(con=con, params=params, bron=bron)


#: Cleaning's intermediate tables, dropped when it is done (:func:`_opruimen`).
TUSSENTABELLEN = ("tw_laatste", "tw_regels", "tw_product", "geboorte", "afgewezen_sleutel", "posten", "dec_product",
                  "contract", "ss_verwijderd", "aanb_type", "gem_regio")


def _opruimen(con) -> None:
    """Drop cleaning's intermediate tables. They live in the connection's memory with the
    cleaned tables, under its ceiling (:data:`jeugdlib.engine.GEHEUGEN_STANDAARD`): on
    the national demo they held about a third of it, so the KPI queries had to write
    cleaned tables out to the spill folder and read them back."""
    run(con, "DROP VIEW IF EXISTS dec_regels")
    for t in TUSSENTABELLEN:
        run(con, f"DROP TABLE IF EXISTS {t}")


#: Tables of the cleaned data a quarterly run stores (:func:`bewaar`) for its notebooks.
BEWAARD = ("toewijzingen", "toewijzingen_ingetrokken", "declaraties", "declaraties_afgewezen", "start_stop",
           "verzoeken", "telling", "client_nummers")


#: Stored whole even when :func:`bewaar` keeps only some gemeenten: small, and a report
#: on all regions shows the cleaning counts of all of them.
HEEL_BEWAARD = ("telling", "client_nummers")


def bewaar(c: Cleaned, map_, gemeenten=None) -> None:
    """Store the cleaned tables of ``c`` as Parquet in ``map_`` (one file per table of
    :data:`BEWAARD`), so the notebooks of a quarterly run read them instead of cleaning
    again (:func:`opgeslagen`). ``gemeenten``: keep only the records of these
    gemeentecodes (a run for one region: its notebooks read no other; on the national
    demo this writes a few MB instead of 9 million wide rows, 18 s)."""
    from pathlib import Path

    map_ = Path(map_)
    map_.mkdir(parents=True, exist_ok=True)
    codes = None if gemeenten is None else engine.lijst(gemeenten)
    for t in BEWAARD:
        tmp = map_ / f".{t}.parquet.tmp"
        filt = f" WHERE gemeentecode IN ({codes})" if codes and t not in HEEL_BEWAARD else ""
        run(c.con, f"COPY (SELECT * FROM {t}{filt}) TO {engine._lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
        tmp.replace(map_ / f"{t}.parquet")


def is_bewaard(map_) -> bool:
    """Whether ``map_`` holds every table of :data:`BEWAARD` (a run stored by an older
    version may lack one: then its notebooks clean again)."""
    from pathlib import Path

    return all((Path(map_) / f"{t}.parquet").exists() for t in BEWAARD)


def opgeslagen(map_, bron, params: Params, gemeenten=None) -> Cleaned:
    """The cleaned data stored by :func:`bewaar` in ``map_`` as a :class:`Cleaned`:
    views over the Parquet files, only the rows of ``gemeenten`` when given (a region's
    notebook reads its region's part). ``bron``: the processed dataset they were
    cleaned from (for the reference tables and the raw views)."""
    from pathlib import Path

    con = engine.connect()
    engine.laad(con, bron, gemeenten)
    _gemeenten(con)
    codes = None if gemeenten is None else engine.lijst(gemeenten)
    for t in BEWAARD:
        src = f"read_parquet({engine._lit(str(Path(map_) / f'{t}.parquet'))})"
        filt = f" WHERE gemeentecode IN ({codes})" if codes and t != "client_nummers" else ""
        run(con, f"CREATE OR REPLACE VIEW {t} AS SELECT * FROM {src}{filt}")
    return Cleaned(con=con, params=params, bron=bron)


def signalen(con, peildatum=None) -> dict:
    """Data-quality lists of the cleaned data (no client ids in them). Rejections count
    only answers dated before the ``peildatum`` (as cleaning does)."""
    item_cols = ("toewijzing_nr, agb, gemeentecode, regio, productcode, periode_begin, periode_eind, "
                 "volume, bedrag_cent")

    def per_code(col, extra=""):
        ex = f", {extra}" if extra else ""
        cond = {"productcode": "NOT product_bekend AND productcode IS NOT NULL AND productcode <> ''",
                "agb": "NOT aanbieder_bekend",
                "gemeentecode": "gemeentecode IS NULL OR gemeentecode NOT IN (SELECT gemeentecode FROM gem_lookup)"}[col]
        out = engine.df(con, f"""
            SELECT 'toewijzingen' AS tabel, {col}{ex}, count(*) AS aantal, 0::BIGINT AS bedrag_cent
            FROM toewijzingen WHERE {cond} GROUP BY ALL
            UNION ALL
            SELECT 'declaraties', {col}{ex}, count(*), sum(bedrag_cent)::BIGINT
            FROM declaraties WHERE {cond} GROUP BY ALL
            ORDER BY 1, 2""")
        return out.astype({c: schema.I if c in ("aantal", "bedrag_cent") else schema.S for c in out.columns})

    voor_peil = f"coalesce(antwoorddatum < {_datum(peildatum)}, true)" if peildatum is not None else "true"
    geb = con.execute("""SELECT count(*) FILTER (geboortedatum IS NULL),
                                count(DISTINCT client_id) FILTER (geboortedatum IS NULL) FROM toewijzingen""").fetchall()[0]
    geb_dec = con.execute("""SELECT count(*) FILTER (geboortedatum_onbekend),
                                    count(DISTINCT client_nr) FILTER (geboortedatum_onbekend)
                             FROM declaraties""").fetchall()[0]
    return {
        "onbekende_producten": per_code("productcode", "productcategorie"),
        "onbekende_aanbieders": per_code("agb"),
        "onbekende_gemeenten": per_code("gemeentecode"),
        "zonder_toewijzing": engine.df(con, f"SELECT {item_cols} FROM declaraties WHERE NOT toewijzing_bekend ORDER BY rij"),
        "credit_zonder_debet": engine.df(con, f"SELECT {item_cols} FROM declaraties WHERE credit_zonder_debet ORDER BY rij"),
        "geboortedatum_onbekend": pd.DataFrame({
            "tabel": pd.Series(["toewijzingen", "declaraties"], dtype=schema.S),
            "aantal": pd.Series([geb[0], geb_dec[0]], dtype=schema.I),
            "clienten": pd.Series([geb[1], geb_dec[1]], dtype=schema.I),
        }),
        # a toewijzing declared for more than one client (metrics.md 0.2)
        "toewijzing_meerdere_clienten": engine.df(con, """
            SELECT gemeentecode, toewijzing_nr, agb, count(DISTINCT client_nr) AS clienten, count(*) AS posten,
                   sum(bedrag_cent)::BIGINT AS bedrag_cent
            FROM declaraties WHERE toewijzing_nr IS NOT NULL
            GROUP BY gemeentecode, toewijzing_nr, agb HAVING count(DISTINCT client_nr) > 1 ORDER BY 1, 2"""),
        # rejected prestaties per RetourCode (metrics.md 0.2)
        "afwijzingen": engine.df(con, f"""
            SELECT coalesce(nullif(trim(code), ''), 'onbekend') AS retourcode, count(*) AS regels,
                   sum(bedrag_cent_signed)::BIGINT AS bedrag_cent
            FROM (SELECT unnest(string_split(coalesce(retourcodes, ''), ',')) AS code, bedrag_cent_signed
                  FROM ruw_afwijzingen WHERE {voor_peil}) GROUP BY 1 ORDER BY 2 DESC"""),
    }
