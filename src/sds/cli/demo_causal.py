"""The demo's causal chapters, on the textbooks' public data (the ``causal`` extra ships
them): a job-training program judged without its experiment and then against it (Dehejia &
Wahba's NSW and CPS samples), the return to schooling by college proximity (Card), organ
donation after California's law (Kessler & Roth, DiD and event study), staggered minimum
wages (Callaway & Sant'Anna's mpdta) and the incumbency advantage in Senate races (RDD).
Each file is written under ``data/`` first, so every chapter is one command a user could
type (``sds causal METHOD --data FILE ...``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

NSW_COVARIATES = ["age", "age2", "age3", "educ", "educ2", "marr", "nodegree", "black", "hisp",
                  "re74", "re75", "u74", "u75", "educ_re74"]  # fmt: skip


def causal_chapters(output: Path) -> list[Any]:
    """The causal chapters, or none (with the reason) when the extra is not installed."""
    try:
        import causaldata  # noqa: F401
        import moderndid  # noqa: F401
        import rdrobust  # noqa: F401
    except ImportError as exc:
        _say(f"causal chapters skipped: {exc.name} is missing (pip install 'sds-toolkit[causal]')")
        return []
    from sds.causal import advise, aipw, did, event_study, iv, psm, rdd, staggered
    from sds.report.assemble import Chapter

    files = _write_data(output / "data")
    _say("causal: how would a senior choose? sds causal advise --assignment self-selected ...")
    chapters = [Chapter("Causal: which method for a self-selected program",
                        advise("self-selected", panel=False, confounders_measured=True),
                        "causal_advice.json")]  # fmt: skip
    nsw = str(files["nsw"])
    _say("causal: NSW training program, treated men vs CPS comparisons (experiment: $1,794)")
    matched = psm(nsw, "re78", treatment="treat", covariates=NSW_COVARIATES)
    weighted = aipw(nsw, "re78", treatment="treat", covariates=NSW_COVARIATES, estimand="ATT")
    for name, r in (("matching", matched), ("weighting", weighted)):
        _say(f"  {name}: ATT {r.estimate:,.0f} ({r.ci_lower:,.0f} to {r.ci_upper:,.0f})")
        chapters.append(
            Chapter(f"Causal: NSW job training by {name} (experiment: $1,794)", r,
                    f"causal_nsw_{name}.json")
        )  # fmt: skip
    _say("causal: return to schooling, college proximity as instrument (Card)")
    chapters.append(Chapter(
        "Causal: return to schooling, IV (Card 1995)",
        iv(str(files["card"]), "lwage", treatment="educ", instruments=["nearc4"],
           covariates=["exper", "black", "south", "married", "smsa"]),
        "causal_card_iv.json"))  # fmt: skip
    organ = str(files["organ"])
    _say("causal: organ donation rates after California's 2011 law (DiD, event study)")
    trend = did(organ, "rate", treatment="treated", unit="state", time="quarter")
    events = event_study(organ, "rate", treatment="treated", unit="state", time="quarter")
    chapters.append(
        Chapter("Causal: organ donations, difference-in-differences", trend,
                "causal_organ_did.json")
    )  # fmt: skip
    chapters.append(
        Chapter("Causal: organ donations, event study", events, "causal_organ_event.json")
    )
    _say("causal: teen employment and staggered minimum-wage rises (Callaway-Sant'Anna)")
    chapters.append(Chapter(
        "Causal: minimum wages, staggered adoption",
        staggered(str(files["mpdta"]), "lemp", treatment="treated", unit="county", time="year"),
        "causal_mpdta.json"))  # fmt: skip
    _say("causal: incumbency advantage in U.S. Senate elections (RDD)")
    chapters.append(Chapter("Causal: Senate incumbency, regression discontinuity",
                            rdd(str(files["senate"]), "vote", running="margin", cutoff=0.0),
                            "causal_senate_rdd.json"))  # fmt: skip
    return chapters


def _write_data(folder: Path) -> dict[str, Path]:
    import causaldata
    import moderndid
    import pandas as pd
    import rdrobust

    folder.mkdir(parents=True, exist_ok=True)
    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    d = pd.concat([nsw[nsw["treat"] == 1], cps]).drop(columns="data_id").astype(float)
    d["u74"], d["u75"] = (d["re74"] == 0) * 1.0, (d["re75"] == 0) * 1.0
    d["age2"], d["age3"], d["educ2"] = d["age"] ** 2, d["age"] ** 3, d["educ"] ** 2
    d["educ_re74"] = d["educ"] * d["re74"]
    od = causaldata.organ_donations.load_pandas().data
    od = pd.DataFrame({"state": od["State"], "quarter": od["Quarter_Num"], "rate": od["Rate"],
                       "treated": ((od["State"] == "California") & (od["Quarter_Num"] >= 4))
                       .astype(int)})  # fmt: skip
    mp = moderndid.load_mpdta().to_pandas()
    mp = pd.DataFrame({"county": mp["countyreal"], "year": mp["year"], "lemp": mp["lemp"],
                       "treated": ((mp["first.treat"] > 0) & (mp["year"] >= mp["first.treat"]))
                       .astype(int)})  # fmt: skip
    senate = Path(rdrobust.__file__).parent / "data" / "rdrobust_RDsenate.csv"
    frames = {
        "nsw": d.reset_index(drop=True),
        "card": causaldata.close_college.load_pandas().data,
        "organ": od,
        "mpdta": mp,
        "senate": pd.read_csv(senate),
    }
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"causal_{name}.parquet"
        frame.to_parquet(paths[name])
    return paths


def _say(text: str) -> None:
    print(text, file=sys.stderr)
