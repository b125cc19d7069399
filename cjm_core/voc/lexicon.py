"""Sentiment lexicons for English, Portuguese and Spanish, and the scorer that reads them.

The lexicons ship as ``lexicon_<language>.yaml`` (written by hand: a few hundred words and
phrases each, weights from -2 to +2, see the file headers). :meth:`Lexicon.score` reads
folded comments (:func:`cjm_core.voc.text.fold`) in these steps, all on whole arrays:

1. emoticons and emoji become the words ``emopos`` / ``emoneg`` (weight +-1.5); phrases
   ("on hold", "antes do prazo", "nada a reclamar") become one word;
2. every word gets its weight: the whole word, else its longest listed stem ("decepc*"),
   else the word with letter runs shortened ("otimooo" -> "otimo"), else 0;
3. **negation**: a word up to ``NEGATION_WINDOW`` words after a negator ("not", "não",
   "nunca", "sin") in the same clause (no punctuation or "but" between) takes its
   ``when_negated`` weight ("não chegou" -1.5) or else ``NEGATION`` times its weight;
4. **intensifiers** multiply the next word ("very", "muito", "muy"; "a bit" 0.6) and, in
   Portuguese and Spanish, a few the word before ("demorou demais");
5. **contrast**: after "but"/"mas"/"pero" words count ``CONTRAST_AFTER`` times, before it
   ``CONTRAST_BEFORE`` times;
6. the comment's sum ``s`` becomes ``s / sqrt(s**2 + ALPHA)`` in (-1, 1) (the rule of VADER,
   with ``ALPHA`` = 4 for weights on a +-2 scale); ``hits`` counts the words that scored.

Example::

    >>> en = load_lexicon("en")
    >>> scores, hits = en.score(["very good", "not good", "the parcel did not arrive"])
    >>> [round(float(s), 3) for s in scores], hits.tolist()
    ([0.6, -0.287, -0.6], [1, 1, 1])
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import chain

import numpy as np
import pandas as pd

from ..errors import CjmError
from .text import LANGUAGES, SEP, fold, read_words

NEGATION = -0.6  # a negated word without its own when_negated weight: -0.6 x its weight
NEGATION_WINDOW = 3  # a negator reaches this many words ahead ("não é muito bom")
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5  # weights before / after "but", "mas", "pero"
ALPHA = 4.0  # score = sum / sqrt(sum^2 + ALPHA)
EMOTICON_WEIGHT = 1.5

TOKEN = re.compile(r"[a-z0-9_]+|[^\sa-z0-9_]")
BREAKS = frozenset('.,;:!?()[]{}"—…|')
RUN = re.compile(r"(.)\1{2,}")
POSITIVE_EMOTICONS = re.compile(
    r"[:;=](?:[)\]]|[dp](?![a-z]))|<3|"
    r"[\U0001F600-\U0001F606\U0001F609-\U0001F60E\U0001F618\U0001F642\U0001F44D"
    r"\U0001F44F\U0001F499-\U0001F49C\U0001F970\U0001F929\u263A\u2764\u2665]"
)
NEGATIVE_EMOTICONS = re.compile(
    r"[:=][(\[]|[\U0001F612\U0001F614\U0001F615\U0001F61E-\U0001F62B\U0001F62D"
    r"\U0001F44E\U0001F641\u2639]"
)


@dataclass(frozen=True, eq=False)
class Lexicon:
    """The word lists of one language (all folded; phrases as ``word_word``)."""

    language: str
    words: Mapping[str, float]
    stems: Mapping[str, float] = field(default_factory=dict)
    negated_words: Mapping[str, float] = field(default_factory=dict)
    negated_stems: Mapping[str, float] = field(default_factory=dict)
    negators: frozenset[str] = frozenset()
    contrast: frozenset[str] = frozenset()
    before: Mapping[str, float] = field(default_factory=dict)
    after: Mapping[str, float] = field(default_factory=dict)
    phrases: tuple[str, ...] = ()  # multi-word expressions, words separated by spaces

    def __len__(self) -> int:
        return len(self.words) + len(self.stems)

    @cached_property
    def _phrase_re(self) -> re.Pattern[str] | None:
        if not self.phrases:
            return None
        ordered = sorted(self.phrases, key=len, reverse=True)  # the longest phrase wins
        body = "|".join(r"[\s,]+".join(map(re.escape, p.split())) for p in ordered)
        return re.compile(rf"(?<![a-z0-9_])(?:{body})(?![a-z0-9_])")

    def tokens(self, text: str) -> list[str]:
        """The words and punctuation of one text (folded first), phrases joined by ``_``.

        >>> load_lexicon("pt").tokens("chegou antes do prazo, não recomendo")
        ['chegou', 'antes_do_prazo', ',', 'nao_recomendo']
        """
        return self._flat([fold(text)])[0].tolist()

    def _flat(self, folded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All tokens of all texts in one array, and the number of tokens of each text.

        The texts are joined by ``SEP`` and read in one pass of each regular
        expression (100 000 short texts: one call instead of 100 000)."""
        text = SEP.join(t.replace(SEP, " ") for t in folded)
        text = POSITIVE_EMOTICONS.sub(" emopos ", text)
        text = NEGATIVE_EMOTICONS.sub(" emoneg ", text)
        if self._phrase_re is not None:
            text = self._phrase_re.sub(lambda m: re.sub(r"[\s,]+", "_", m.group(0)), text)
        tokens = np.array(TOKEN.findall(text), dtype=object)
        sep = tokens == SEP
        doc = np.cumsum(sep)[~sep]
        return tokens[~sep], np.bincount(doc, minlength=len(folded)).astype(np.int64)

    def score(self, folded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores in (-1, 1) and the number of scoring words of each folded text."""
        n = len(folded)
        flat, lengths = self._flat(folded)
        if lengths.sum() == 0:
            return np.zeros(n), np.zeros(n, dtype=np.int64)
        codes, uniques = pd.factorize(flat)
        table = self._lookup(uniques.tolist())
        weight, negated_weight, negator, contrast, brk, before, after = (
            col[codes] for col in table
        )
        doc = np.repeat(np.arange(n), lengths)
        starts = np.cumsum(lengths) - lengths
        idx = np.arange(len(doc))
        same_prev = np.r_[False, doc[1:] == doc[:-1]]
        same_next = np.r_[doc[:-1] == doc[1:], False]

        # intensifiers: a modifier next to a scoring word lends its factor and loses its weight
        next_w = np.where(same_next, np.r_[weight[1:], 0.0], 0.0)
        prev_w = np.where(same_prev, np.r_[0.0, weight[:-1]], 0.0)
        modifies = ((before != 1) & (next_w != 0)) | ((after != 1) & (prev_w != 0))
        base = np.where(modifies, 0.0, weight)
        b1 = np.where(same_prev, np.r_[1.0, before[:-1]], 1.0)
        same_prev2 = same_prev & np.r_[False, same_prev[:-1]]
        b2 = np.where(same_prev2 & (b1 != 1), np.r_[1.0, 1.0, before[:-2]][: len(doc)], 1.0)
        a1 = np.where(same_next, np.r_[after[1:], 1.0], 1.0)
        factor = b1 * b2 * a1

        # negation: the last negator before the word, after the last clause break
        last_negator = np.maximum.accumulate(np.where(negator, idx, -1))
        prev_negator = np.r_[-1, last_negator[:-1]]
        boundary = np.where(brk | contrast, idx, -1).astype(float)
        boundary[starts[lengths > 0]] = np.maximum(
            boundary[starts[lengths > 0]], starts[lengths > 0] - 0.5
        )
        last_boundary = np.maximum.accumulate(boundary)
        negated = (prev_negator > last_boundary) & (idx - prev_negator <= NEGATION_WINDOW)
        flipped = np.where(np.isnan(negated_weight), NEGATION * base, negated_weight)
        value = np.where(negated, flipped, base)

        # contrast: "good product but late" leans on what follows "but"
        count = np.cumsum(contrast)
        offset = (count - contrast)[starts[lengths > 0]]
        inside = count - np.repeat(np.r_[offset], lengths[lengths > 0])
        total = np.bincount(doc, weights=contrast, minlength=n)
        after_c = (inside - contrast) > 0
        before_c = (total[doc] - inside) > 0
        factor = factor * np.where(after_c, CONTRAST_AFTER, np.where(before_c, CONTRAST_BEFORE, 1))

        contribution = value * factor
        sums = np.bincount(doc, weights=contribution, minlength=n)
        hits = np.bincount(doc, weights=contribution != 0, minlength=n).astype(np.int64)
        return sums / np.sqrt(sums**2 + ALPHA), hits

    def _lookup(self, uniques: list[str]) -> tuple[np.ndarray, ...]:
        """Per distinct token: weight, negated weight (NaN = none), negator, contrast,
        clause break, factor on the next word, factor on the word before."""
        weight = np.array([self._weight(t) for t in uniques], dtype=float)
        negated = np.array([self._negated(t) for t in uniques], dtype=float)
        negator = np.array([t in self.negators for t in uniques])
        contrast = np.array([t in self.contrast for t in uniques])
        brk = np.array([t in BREAKS for t in uniques])
        before = np.array([self.before.get(t, 1.0) for t in uniques], dtype=float)
        after = np.array([self.after.get(t, 1.0) for t in uniques], dtype=float)
        return weight, negated, negator, contrast.astype(np.int64), brk, before, after

    @cached_property
    def _stem_re(self) -> re.Pattern[str] | None:
        return _stem_pattern(self.stems)

    @cached_property
    def _negated_stem_re(self) -> re.Pattern[str] | None:
        return _stem_pattern(self.negated_stems)

    def _weight(self, token: str) -> float:
        for candidate in _variants(token):
            if candidate in self.words:
                return float(self.words[candidate])
            if self._stem_re is not None and (m := self._stem_re.match(candidate)):
                return float(self.stems[m.group(0)])
        return 0.0

    def _negated(self, token: str) -> float:
        if token in self.negated_words:
            return float(self.negated_words[token])
        if self._negated_stem_re is not None and (m := self._negated_stem_re.match(token)):
            return float(self.negated_stems[m.group(0)])
        return math.nan


def _variants(token: str) -> list[str]:
    """The token, then with runs of 3+ letters cut to 2 and to 1 ("goood", "otimooo")."""
    if not RUN.search(token):
        return [token]
    return [token, RUN.sub(r"\1\1", token), RUN.sub(r"\1", token)]


def _stem_pattern(stems: Mapping[str, float]) -> re.Pattern[str] | None:
    if not stems:
        return None
    ordered = sorted(stems, key=len, reverse=True)  # the longest stem wins
    return re.compile("|".join(map(re.escape, ordered)))


def _key(word: object) -> str:
    return "_".join(fold(str(word)).split())


@cache
def load_lexicon(language: str) -> Lexicon:
    """The shipped lexicon of ``language`` (``en``, ``pt`` or ``es``).

    >>> pt = load_lexicon("pt")
    >>> pt.words["pessimo"] if "pessimo" in pt.words else pt.stems["pessim"]
    -2.0
    """
    if language not in LANGUAGES:
        raise CjmError(
            f"No sentiment lexicon for language {language!r}; shipped: {', '.join(LANGUAGES)}."
        )
    raw = read_words(f"lexicon_{language}.yaml")
    weights = {**(raw.get("phrases") or {}), **(raw.get("words") or {})}
    weights.update({"emopos": EMOTICON_WEIGHT, "emoneg": -EMOTICON_WEIGHT})
    words, stems = _split({k: float(v) for k, v in weights.items()})
    negated_words, negated_stems = _split(
        {k: float(v) for k, v in (raw.get("when_negated") or {}).items()}
    )
    lists = {name: [str(w) for w in raw.get(name) or []] for name in ("negators", "contrast")}
    before = {str(k): float(v) for k, v in (raw.get("intensifiers") or {}).items()}
    after = {str(k): float(v) for k, v in (raw.get("after_intensifiers") or {}).items()}
    phrases = {
        " ".join(fold(str(k)).split())
        for k in chain(weights, *lists.values(), before, after)
        if len(fold(str(k)).split()) > 1
    }
    return Lexicon(
        language=language,
        words=words,
        stems=stems,
        negated_words=negated_words,
        negated_stems=negated_stems,
        negators=frozenset(map(_key, lists["negators"])),
        contrast=frozenset(map(_key, lists["contrast"])),
        before={_key(k): v for k, v in before.items()},
        after={_key(k): v for k, v in after.items()},
        phrases=tuple(sorted(phrases)),
    )


def _split(weights: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Whole words (phrases joined by ``_``) and stems (keys ending in ``*``), folded."""
    words, stems = {}, {}
    for key, value in weights.items():
        if str(key).endswith("*"):
            stems[_key(str(key)[:-1])] = value
        else:
            words[_key(key)] = value
    return words, stems


@cache
def merged_lexicon() -> Lexicon:
    """All three lexicons in one, for comments whose language is unknown: the union of the
    lists, a word listed in several languages taking the mean of its weights."""
    parts = [load_lexicon(lang) for lang in LANGUAGES]

    def mean_of(attr: str) -> dict[str, float]:
        frame = pd.DataFrame([getattr(p, attr) for p in parts], dtype=float)
        return frame.mean(axis=0, skipna=True).to_dict() if len(frame.columns) else {}

    return Lexicon(
        language="any",
        words=mean_of("words"),
        stems=mean_of("stems"),
        negated_words=mean_of("negated_words"),
        negated_stems=mean_of("negated_stems"),
        negators=frozenset().union(*(p.negators for p in parts)),
        contrast=frozenset().union(*(p.contrast for p in parts)),
        before=mean_of("before"),
        after=mean_of("after"),
        phrases=tuple(sorted(set(chain.from_iterable(p.phrases for p in parts)))),
    )
