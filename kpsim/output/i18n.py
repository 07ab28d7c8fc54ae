"""The words of the brief and the slides, in English (the default) or French: gettext catalogues and Babel formats.

Every sentence is a gettext message (`lang._`, `lang.ngettext`, `lang.pgettext`)
looked up in kpsim/output/locale/<code>/LC_MESSAGES/kpsim.mo (compiled from the
.po beside it; English is the source language and needs no catalogue). Numbers,
percentages and dates are formatted by Babel for the locale: "13.5 years" in
English, "13,5 ans" in French. Placeholders are `{name}` (str.format).

Rules are named in plain words derived from their class and parameters
(`rule_words`): "Two-thirds majority", "Tripartite chambers, governments by
two-thirds", never the identifier a scenario gives them (that stays in tables
and files). Each registered rule type has an entry in WORDS; a contract test
checks that every rule of kpsim.rules.RULES has one.
"""

from __future__ import annotations

import gettext
import math
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from kpsim.errors import InputError
from kpsim.fields import PARTICIPANT

LANGUAGES = ("en", "fr")  # English first: the default and the source language of the catalogues
DOMAIN = "kpsim"
LOCALE_DIR = Path(__file__).parent / "locale"


def suffix(code: str) -> str:
    """What a language adds to a file name: "" for English, ".fr" for French (brief.fr.html)."""
    return "" if code == LANGUAGES[0] else f".{code}"


@dataclass(frozen=True)
class Lang:
    """One language: its translations (gettext) and its formats (Babel)."""

    code: str
    translations: gettext.NullTranslations

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    # -------------------------------------------------------------- messages

    def _(self, message: str, **values) -> str:
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    def pgettext(self, context: str, message: str, **values) -> str:
        text = self.translations.pgettext(context, message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: float, **values) -> str:
        """The form for n by the locale's own plural rule (Babel's CLDR data: 1.5 is "one" in French, "other" in English).

        `{n}` in the message is n formatted for the locale.
        """
        one = self.locale.plural_form(abs(n)) == "one"
        text = self.translations.ngettext(singular, plural, 1 if one else 2)
        return text.format(n=self.num(n), **values)

    # -------------------------------------------------------------- numbers

    def num(self, x: float, digits: int = 1) -> str:
        """At most `digits` decimals, grouped as the locale groups: 13.5, 2,000 / 13,5, 2 000."""
        pattern = "#,##0" + ("." + "#" * digits if digits else "")
        return format_decimal(round(float(x), digits), pattern, locale=self.code)

    def sig(self, x: float, digits: int = 2) -> str:
        """`digits` significant digits (0.00226 is "0.0023", not "0"; 13.27 is "13"), as `num` formats them."""
        x = float(x)
        if x == 0 or not math.isfinite(x):
            return self.num(x, 0)
        return self.num(x, max(0, digits - 1 - math.floor(math.log10(abs(x)))))

    def pct(self, x: float) -> str:
        """Whole percentages, one decimal near 0% and 100% (0.07% is not "0%": it is "<0.1%")."""
        if math.isnan(x):
            return "—"
        if 0.01 <= x <= 0.99 or x in (0.0, 1.0):
            return format_percent(round(x, 2), locale=self.code)
        r = round(x, 3)
        if r == 0:
            return "<" + format_percent(0.001, locale=self.code, decimal_quantization=False)
        if r == 1:
            return ">" + format_percent(0.999, locale=self.code, decimal_quantization=False)
        return format_percent(r, locale=self.code, decimal_quantization=False)

    def ci(self, value: float, lo: float, hi: float, fmt: Callable[[float], str], nr: str | None = None) -> str:
        """A figure and its 95% interval; NaN (a median not reached) says so."""
        nr = self._("not reached") if nr is None else nr
        if value is None or math.isnan(value):
            return nr
        show = lambda v, missing: missing if v is None or math.isnan(v) else fmt(v)  # noqa: E731
        return self.pgettext("interval", "{value} [{lo}, {hi}]", value=fmt(value), lo=show(lo, "—"), hi=show(hi, nr))

    @property
    def sep(self) -> str:
        """Between the parts of a list of clauses: "; " (in French with a narrow no-break space before it)."""
        return self.pgettext("separator", "; ")

    def years(self, x: float) -> str:
        return self.ngettext("{n} year", "{n} years", round(float(x), 1))

    def meetings(self, n: float) -> str:
        return self.ngettext("{n} meeting", "{n} meetings", n)

    def date(self, iso: str | None) -> str:
        if not iso:
            return ""
        try:
            return format_date(datetime.fromisoformat(iso).date(), "long", locale=self.code)
        except ValueError:
            return iso


def language(code: str) -> Lang:
    """The language `code` ("en", "fr"); an unknown code is an input error naming those allowed."""
    if code not in LANGUAGES:
        raise InputError(f"--lang {code!r}: unknown language — allowed: {', '.join(LANGUAGES)}")
    if code == LANGUAGES[0]:
        return Lang(code, gettext.NullTranslations())
    translations = Translations.load(str(LOCALE_DIR), [code], DOMAIN)
    if not isinstance(translations, Translations):  # Babel returns NullTranslations when the catalogue is missing
        raise InputError(f"--lang {code}: the message catalogue {LOCALE_DIR / code / 'LC_MESSAGES' / (DOMAIN + '.mo')} is missing")
    return Lang(code, translations)


# ------------------------------------------------------------------ rules in plain words


@dataclass(frozen=True)
class RuleWords:
    label: str  # a heading: "Two-thirds majority"
    prose: str  # after "under" in a sentence: "a two-thirds majority", "consensus"
    detail: str  # what passes, every threshold and what a tie does


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _share(lang: Lang, q, form: str) -> str:
    """A threshold in words for one grammatical use: form "share" (two-thirds / des deux tiers), "share noun"
    (two-thirds / les deux tiers) or "chamber share" (two-thirds / aux deux tiers); other fractions as 7/12."""
    q = Fraction(q)
    named = {
        Fraction(1, 2): (lang.pgettext("share", "half"), lang.pgettext("share noun", "half"), lang.pgettext("chamber share", "half")),
        Fraction(2, 3): (lang.pgettext("share", "two-thirds"), lang.pgettext("share noun", "two-thirds"), lang.pgettext("chamber share", "two-thirds")),
        Fraction(3, 4): (lang.pgettext("share", "three-quarters"), lang.pgettext("share noun", "three-quarters"), lang.pgettext("chamber share", "three-quarters")),
        Fraction(3, 5): (lang.pgettext("share", "three-fifths"), lang.pgettext("share noun", "three-fifths"), lang.pgettext("chamber share", "three-fifths")),
        Fraction(4, 5): (lang.pgettext("share", "four-fifths"), lang.pgettext("share noun", "four-fifths"), lang.pgettext("chamber share", "four-fifths")),
    }
    forms = ("share", "share noun", "chamber share")
    if q in named:
        return named[q][forms.index(form)]
    raw = (lang.pgettext("share", "{fraction}", fraction=q), lang.pgettext("share noun", "{fraction}", fraction=q),
           lang.pgettext("chamber share", "{fraction}", fraction=q))
    return raw[forms.index(form)]


def _majority(lang: Lang, q, ties: str, weighted: bool = False) -> str:
    """A count threshold as a noun phrase without article: "two-thirds majority", "majority of more than three-quarters"."""
    q = Fraction(q)
    if q == 1:
        return lang._("unanimity of those taking a side")
    if ties == "fail":
        return lang._("simple majority") if q == Fraction(1, 2) and not weighted else lang._("majority of more than {share}", share=_share(lang, q, "share"))
    if q == Fraction(1, 2):
        return lang._("majority") if weighted else lang._("majority of at least half")
    if q in (Fraction(2, 3), Fraction(3, 4), Fraction(3, 5), Fraction(4, 5)):
        return lang._("{share} majority", share=_share(lang, q, "share"))
    return lang._("majority of at least {share}", share=_share(lang, q, "share noun"))


def _article(lang: Lang, noun: str) -> str:
    return lang._("an {noun}", noun=noun) if noun[:1].lower() in "aeiou" else lang._("a {noun}", noun=noun)


def _ties(lang: Lang, ties: str) -> str:
    return lang._("a tie passes") if ties == "pass" else lang._("a tie fails")


def _weight(lang: Lang, name: str) -> str:
    known = {"production": lang.pgettext("weight", "production"), "trade": lang.pgettext("weight", "trade")}
    return known.get(name, name.replace("_", " "))


def _at_least(lang: Lang, q, ties: str) -> str:
    return lang._("at least {q}", q=Fraction(q)) if ties == "pass" else lang._("more than {q}", q=Fraction(q))


def _consensus(rule, lang):
    return RuleWords(lang._("Consensus"), lang.pgettext("prose", "consensus"), lang._("passes unless a participant objects; abstaining does not block"))


def _consensus_minus_k(rule, lang):
    return RuleWords(
        lang._("Consensus minus {k}", k=rule.k),
        lang.pgettext("prose", "consensus minus {k}", k=rule.k),
        lang.ngettext("passes unless more than {k} participant objects", "passes unless more than {k} participants object", rule.k, k=rule.k),
    )


def _count_majority(rule, lang, q):
    noun = _majority(lang, q, rule.ties)
    prose = lang.pgettext("prose", "unanimity of those taking a side") if Fraction(q) == 1 else _article(lang, noun)
    detail = lang._("{share} of the participants taking a side support", share=_at_least(lang, q, rule.ties))
    return RuleWords(_cap(noun), prose, detail + lang.sep + _ties(lang, rule.ties))


def _weighted(rule, lang):
    noun = lang._("{weight}-weighted {majority}", weight=_weight(lang, rule.weight), majority=_majority(lang, rule.q, rule.ties, weighted=True))
    base = lang._("of those taking a side") if rule.base == "voting" else lang._("of all participants")
    detail = lang._("supporters hold {share} of the {weight} {base}", share=_at_least(lang, rule.q, rule.ties), weight=_weight(lang, rule.weight), base=base)
    return RuleWords(_cap(noun), _article(lang, noun), detail + lang.sep + _ties(lang, rule.ties))


def _double(rule, lang):
    weight = _weight(lang, rule.weight)
    if (Fraction(rule.q), Fraction(rule.weight_q), rule.ties) == (Fraction(1, 2), Fraction(1, 2), "pass"):
        noun = lang._("double majority (participants and {weight})", weight=weight)
    else:
        noun = lang._("double majority ({q} of participants, {wq} of {weight})", q=_at_least(lang, rule.q, rule.ties),
                      wq=_at_least(lang, rule.weight_q, rule.ties), weight=weight)
    base = lang._("of those taking a side") if rule.base == "voting" else lang._("of all participants")
    detail = lang._("{q} of the participants taking a side support, and supporters hold {wq} of the {weight} {base}",
                    q=_at_least(lang, rule.q, rule.ties), wq=_at_least(lang, rule.weight_q, rule.ties), weight=weight, base=base)
    return RuleWords(_cap(noun), _article(lang, noun), detail + lang.sep + _ties(lang, rule.ties))


DEFAULT_CHAMBERS = (("governments", ("participant",)), ("industry", ("industry",)), ("civil_society", ("civil_society",)))


def chamber_name(lang: Lang, name: str) -> str:
    known = {"governments": lang._("governments"), "industry": lang._("industry"), "civil_society": lang._("civil society")}
    return known.get(name, name.replace("_", " "))


def _chambers(rule, lang):
    tripartite = tuple((c.name, tuple(c.kinds)) for c in rule.chambers) == DEFAULT_CHAMBERS
    n = len(rule.chambers)
    names = ", ".join(chamber_name(lang, c.name) for c in rule.chambers)
    base = lang._("tripartite chambers") if tripartite else lang.ngettext("{n} chamber ({names})", "{n} chambers ({names})", n, names=names)
    prose = lang.pgettext("prose", "tripartite chambers") if tripartite else base
    parts, details = [], {}
    for c in rule.chambers:
        name, q = chamber_name(lang, c.name), Fraction(c.q)
        if q == 1:
            part = lang._("{chamber} unanimously", chamber=name)
        elif c.ties == "pass":
            part = lang._("{chamber} by {share}", chamber=name, share=_share(lang, q, "chamber share"))
        else:
            part = lang._("{chamber} by more than {share}", chamber=name, share=_share(lang, q, "share"))
        if (q, c.ties) != (Fraction(1, 2), "pass"):
            parts.append(part)
        details.setdefault(_at_least(lang, q, c.ties), []).append(name)
    label = ", ".join([base] + parts)
    each = lang.sep.join(lang._("{rule}: {result}", rule=", ".join(names), result=share) for share, names in details.items())
    detail = lang._("each chamber approves by a share of its members taking a side ({chambers}); observers vote; a chamber where all "
                    "abstain does not block", chambers=each)
    return RuleWords(_cap(label), ", ".join([prose] + parts), detail)


def _written(rule, lang):
    m = rule.min_support
    needed = ", " + lang.ngettext("{n} reply needed", "{n} replies needed", m) if m > 1 else ""
    detail = lang.ngettext("at least {n} supporting reply and no written objection", "at least {n} supporting replies and no written objection", m)
    return RuleWords(lang._("Written procedure") + needed, lang.pgettext("prose", "written procedure") + needed, detail)


# rule type (the `rule:` field) -> its words; one entry per rule class of kpsim.rules.RULES
WORDS: dict[str, Callable[[object, Lang], RuleWords]] = {
    "consensus": _consensus,
    "consensus_minus_k": _consensus_minus_k,
    "simple_majority": lambda rule, lang: _count_majority(rule, lang, Fraction(1, 2)),
    "qualified_majority": lambda rule, lang: _count_majority(rule, lang, rule.q),
    "weighted_majority": _weighted,
    "double_majority": _double,
    "chambers": _chambers,
    "written_procedure": _written,
}


def rule_words(rule, lang: Lang) -> RuleWords:
    """A rule in plain words, from its class and parameters (a rule type without an entry: its type, spelled out)."""
    if rule.rule in WORDS:
        return WORDS[rule.rule](rule, lang)
    words = rule.rule.replace("_", " ")
    return RuleWords(_cap(words), words, rule.summary)


def rule_labels(rules, lang: Lang) -> dict[str, RuleWords]:
    """Each rule's words by its identifier; two rules with the same words (the same rule twice) are numbered."""
    out = {r.label: rule_words(r, lang) for r in rules}
    seen: dict[str, int] = {}
    for name, w in out.items():
        seen[w.label] = seen.get(w.label, 0) + 1
        if seen[w.label] > 1:
            out[name] = RuleWords(f"{w.label} ({seen[w.label]})", f"{w.prose} ({seen[w.label]})", w.detail)
    return out


def bloc_name(lang: Lang, bloc: str) -> str:
    """A bloc as a heading: "Russia aligned"; blocless participants and observers (kpsim.analysis.blockers.bloc_labels) in words."""
    if bloc == "(no bloc)":
        return lang._("no bloc")
    if bloc.startswith("(") and bloc.endswith(")"):
        return lang._("{kind} (observer)", kind=chamber_name(lang, bloc[1:-1]))
    return _cap(bloc.replace("_", " "))

# ------------------------------------------------------------------ the scenario in words: assumptions, rules, sources


def assumptions(results, lang: Lang) -> list[str]:
    """Only what applies to this run: the agents' mechanisms that are on, or the null model's one probability."""
    sc, cal, dyn, prop = results.scenario, results.scenario.calendar, results.scenario.dynamics, results.scenario.proposal
    n_part = sum(a.kind == PARTICIPANT for a in sc.actors)
    names = sorted({a.bloc for a in sc.actors if a.bloc})
    n_obs = len(sc.actors) - n_part
    lines = [(lang._("Actors: {p} participants and {o} observers (observers do not vote, except under chambers).", p=n_part, o=n_obs) if n_obs
              else lang._("Actors: {p} participants.", p=n_part))
             + (" " + lang._("Blocs: {blocs}.", blocs=", ".join(bloc_name(lang, b) for b in names)) if names else "")]
    text = lang._("Proposal: a text at {p} on a scale where the status quo is {sq}.", p=lang.num(prop.position, 2), sq=lang.num(prop.status_quo, 2))
    if prop.reservation is not None:
        text += " " + lang._("The chair may amend it as far as {r}.", r=lang.num(prop.reservation, 2))
    if prop.abandon_after:
        text += " " + lang._("It is abandoned after {n} failed meetings.", n=prop.abandon_after)
    lines.append(text)
    lines.append(lang._("Horizon: {m} ({y}, {k} a year). A proposal not adopted by then, or withdrawn, is censored: never counted as adopted.",
                        m=lang.meetings(cal.horizon), y=lang.years(cal.horizon / cal.meetings_per_year), k=lang.num(cal.meetings_per_year)))
    if dyn.mode == "null":
        lines.append(lang._("Null model: each participant supports with probability {p} at every meeting, independently; nothing else moves.",
                            p=lang.num(dyn.support_probability, 2)))
    else:
        parts = [lang._("stance noise {x}", x=lang.num(dyn.noise, 2))]
        if dyn.influence and names:
            parts.append(lang._("participants move toward their bloc (stubbornness scale {x})", x=lang.num(dyn.stubbornness_scale, 2)))
        if dyn.lobbying > 0 and any(a.lobbying > 0 for a in sc.actors):
            parts.append(lang._("observers lobby (strength {x})", x=lang.num(dyn.lobbying, 2)))
        if sc.chair is not None and sc.chair.strategy == "setter":
            parts.append(lang._("the chair tables the text it prefers among those it expects to pass"))
        elif prop.reservation is not None:
            parts.append(lang._("after a failed meeting the chair moves the text toward the objectors (step {x})", x=lang.num(dyn.amendment_step, 2)))
        if dyn.reluctance > 0:
            parts.append(lang._("objecting has a cost ({x})", x=lang.num(dyn.reluctance, 2)))
        if dyn.acquiescence_isolation > 0 or dyn.acquiescence_time > 0:
            parts.append(lang._("a lone or long-standing objector may give way"))
        if any(a.patience for a in sc.actors):
            parts.append(lang._("observers may walk out after repeated failures"))
        if cal.rounds_per_meeting > 1:
            parts.append(lang._("{n} drafts per meeting", n=cal.rounds_per_meeting))
        lines.append(lang._("Dynamics: {parts}.", parts=lang.sep.join(parts)))
    if sc.events:
        lines.append(lang.ngettext("{n} scheduled event (see scenario.yaml).", "{n} scheduled events (see scenario.yaml).", len(sc.events)))
    lines.append(lang._("{n} simulated runs per rule, seed {seed}; every rule sees the same random draws.", n=lang.num(results.replications, 0), seed=sc.seed))
    return lines


def rules_compared(results, lang: Lang) -> list[str]:
    words = rule_labels([r for r in results.scenario.rules if r.label in results.rules], lang)
    return [lang._("{rule}: {result}", rule=w.label, result=w.detail) + "." for w in words.values()]


# ------------------------------------------------------------------ sources: publishers, numbered

PUBLISHERS = {
    "kimberleyprocess.com": "Kimberley Process", "nationaljeweler.com": "National Jeweler", "rough-polished.com": "Rough & Polished",
    "idexonline.com": "IDEX Online", "state.gov": "U.S. Department of State", "mining.com": "MINING.COM",
    "rapaport.com": "Rapaport", "rapaportfairtrade.com": "Rapaport", "slideshare.net": "SlideShare", "voanews.com": "Voice of America",
    "jewellermagazine.com": "Jeweller Magazine", "jckonline.com": "JCK", "gjepc.org": "Gem & Jewellery Export Promotion Council",
    "professionaljeweller.com": "Professional Jeweller", "arctic-council.org": "Arctic Council", "worlddiamondcouncil.org": "World Diamond Council",
    "visualcapitalist.com": "Visual Capitalist", "tribuneindia.com": "The Tribune (India)", "thediamondpress.com": "The Diamond Press",
    "thediamondloupe.com": "The Diamond Loupe", "northernminer.com": "The Northern Miner", "mmegi.bw": "Mmegi", "europa.eu": "European Union",
    "wikipedia.org": "Wikipedia", "sputniknews.africa": "Sputnik Africa", "defenceweb.co.za": "defenceWeb", "allafrica.com": "AllAfrica",
    "awdc.be": "Antwerp World Diamond Centre", "rubel-menasche.com": "Rubel & Ménasché", "diamondworld.net": "Diamond World",
    "zbc.co.zw": "ZBC News", "southernafrican.news": "Southern African News", "jeweltrendz.in": "Jewel Trendz",
}


@dataclass
class Source:
    publisher: str
    urls: list[str] = field(default_factory=list)


def publisher(source: str) -> tuple[str, str | None]:
    """(publisher name, url or None): a known site by its name, another by its domain, a text source as written (shortened)."""
    url = urlparse(source.strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        return textwrap.shorten(source.strip(), 60, placeholder="…"), None
    host = url.netloc.lower().split(":")[0]
    name = next((n for d, n in PUBLISHERS.items() if host == d or host.endswith("." + d)), None)
    return name or host.removeprefix("www.").removeprefix("m."), source.strip()


def sources(results) -> list[Source]:
    """The scenario's sources grouped by publisher, in order of first citation."""
    out: dict[str, Source] = {}
    for s in results.scenario.sources:
        name, url = publisher(s)
        out.setdefault(name, Source(name)).urls.extend([url] if url else [])
    return list(out.values())


def source_line(s: Source, lang: Lang) -> str:
    return s.publisher + (" (" + lang.ngettext("{n} page", "{n} pages", len(s.urls)) + ")" if len(s.urls) > 1 else "")


def robustness_lines(folder: Path | None, labels: dict[str, str], rules: list[str], lang: Lang) -> list[str]:
    """What would change the result, per rule of `rules`, from a folder written by `kpsim robustness` (its robustness.csv)."""
    if folder is None:
        return []
    import pandas as pd

    path = Path(folder) / "robustness.csv"
    if not path.is_file():
        raise InputError(f"{folder}: no robustness.csv — give a folder written by `kpsim robustness`")
    table = pd.read_csv(path)
    missing = {"rule", "swing", "low_value", "high_value", "adopted_base", "adopted_low", "adopted_high", "flips"} - set(table)
    if missing:
        raise InputError(f"{path}:1: not a robustness table (missing {', '.join(sorted(missing))})")
    out = []
    for rule in rules:
        g = table[table["rule"] == rule]
        if g.empty:
            continue
        top = g.iloc[0]
        values = {"rule": labels.get(rule, rule), "n": int(g["flips"].sum()), "m": len(g), "swing": top["swing"],
                  "low": lang.sig(top["low_value"]), "high": lang.sig(top["high_value"]),
                  "a_low": lang.pct(top["adopted_low"]), "a_high": lang.pct(top["adopted_high"])}
        if max(abs(top["adopted_low"] - top["adopted_base"]), abs(top["adopted_high"] - top["adopted_base"])) < 0.01:
            out.append(lang._("What would change it under {rule}: none of {m} one-at-a-time swings moves the share adopted by a point.", **values))
        elif values["n"]:
            out.append(lang._("What would change it under {rule}: {n} of {m} one-at-a-time swings flip the verdict; the largest, {swing}: "
                              "{low} gives {a_low} adopted, {high} gives {a_high}.", **values))
        else:
            out.append(lang._("What would change it under {rule}: none of {m} one-at-a-time swings flips the verdict; the largest move, "
                              "{swing}: {low} gives {a_low} adopted, {high} gives {a_high}.", **values))
    return out
