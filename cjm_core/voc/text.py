"""Text helpers shared by comment sentiment and comment topics: folding, tokens, stop words.

Every comparison of words happens on *folded* text: lower case, accents removed ("péssimo"
-> "pessimo", "ação" -> "acao", "ñ" -> "n"), apostrophes dropped ("don't" -> "dont"),
hyphens and slashes read as spaces (emoticon noses dropped first: ":-)" -> ":)").

The stop words of English, Portuguese and Spanish ship with the package
(``stopwords.yaml``, folded); :func:`detect_languages` lets each stop word vote for the
languages it belongs to (split equally among them: "the" is English, "que" half Portuguese,
half Spanish), so a comment whose votes tie (or that has none) is ``"unknown"``.

Example::

    >>> fold("Péssimo atendimento, NÃO recomendo!")
    'pessimo atendimento, nao recomendo!'
    >>> detect_languages(["The parcel never arrived", "Não chegou", "El paquete no llegó", "Ok"])
    ['en', 'pt', 'es', 'unknown']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd
import yaml

LANGUAGES = ("en", "pt", "es")  # languages with a shipped lexicon and stop-word list
UNKNOWN = "unknown"
WORD = re.compile(r"[a-z0-9]+")
SEP = "\x01"  # joins many texts so that one regex pass reads them all (not whitespace)
VOTE_TOKEN = re.compile(r"[a-z0-9]+|\x01")


def _fold_table() -> dict[int, str]:
    """Latin letters with accents (U+00C0..U+024F) -> their base letters, plus separators."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base.lower()
    table.update({ord("ß"): "ss", ord("æ"): "ae", ord("œ"): "oe", ord("ø"): "o"})
    for quote in "'’`´":
        table[ord(quote)] = ""
    for sep in "-–/_\\":
        table[ord(sep)] = " "
    return table


FOLD = _fold_table()


def fold(text: str) -> str:
    """``text`` in lower case without accents or apostrophes, hyphens as spaces.

    >>> fold("Ação rápida — muy útil, it's OK")
    'acao rapida — muy util, its ok'
    """
    for nose in (":-", ";-", "=-"):  # ":-)" -> ":)" before hyphens become spaces
        text = text.replace(nose, nose[0])
    return text.lower().translate(FOLD)


def words(text: str) -> list[str]:
    """The words (letters and digits) of the folded ``text``.

    >>> words("Não chegou!!  2 semanas...")
    ['nao', 'chegou', '2', 'semanas']
    """
    return WORD.findall(fold(text))


class WordLoader(yaml.SafeLoader):
    """YAML for word lists: ``no``, ``on``, ``off``, ``yes`` stay words (not booleans) and a
    key listed twice is an error."""


WordLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _no_duplicates(loader: WordLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            from ..errors import CjmError

            raise CjmError(
                f"{key!r} is listed twice in {node.start_mark.name} (line "
                f"{key_node.start_mark.line + 1}); keep one entry."
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


WordLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def read_words(name: str) -> dict:
    """A YAML file shipped in ``cjm_core.voc`` read with :class:`WordLoader`.

    >>> read_words("stopwords.yaml")["en"][:3]
    ['a', 'about', 'above']
    """
    text = (files("cjm_core.voc") / name).read_text("utf-8")
    return yaml.load(text, WordLoader)  # noqa: S506 - a SafeLoader subclass


@cache
def stop_words(language: str | None = None) -> frozenset[str]:
    """The folded stop words of ``language`` (``en``, ``pt``, ``es``), or of all three.

    >>> {"the", "nao", "muy", "no", "on"} <= stop_words()
    True
    """
    lists = read_words("stopwords.yaml")
    chosen = LANGUAGES if language is None else (language,)
    if any(lang not in lists for lang in chosen):
        from ..errors import CjmError

        raise CjmError(f"No stop words for language {language!r}; shipped: {', '.join(LANGUAGES)}.")
    return frozenset(fold(str(w)) for lang in chosen for w in lists[lang])


@cache
def _votes() -> tuple[dict[str, int], np.ndarray]:
    """Each stop word's row in a (words x languages) matrix of votes, each row summing to 1."""
    sets = [stop_words(lang) for lang in LANGUAGES]
    every = sorted(set().union(*sets))
    member = np.array([[w in s for s in sets] for w in every], dtype=float)
    return {w: i for i, w in enumerate(every)}, member / member.sum(axis=1, keepdims=True)


def detect_languages(texts: Iterable[str]) -> list[str]:
    """The language of each text by a stop-word vote: each stop word of en/pt/es gives one
    vote, split equally among the languages whose list holds it; the most votes win, a tie
    (or no vote) gives ``"unknown"``.

    >>> detect_languages(["muito bom, chegou antes do prazo", "el envío fue muy rápido"])
    ['pt', 'es']
    """
    return vote_languages(fold_all(list(texts)))


def fold_all(texts: Sequence[str]) -> list[str]:
    """:func:`fold` of many texts in one pass (joined by ``SEP``, then split).

    >>> fold_all(["Ação", "NÃO"])
    ['acao', 'nao']
    """
    return fold(SEP.join(t.replace(SEP, " ") for t in texts)).split(SEP) if texts else []


def vote_languages(folded: Sequence[str]) -> list[str]:
    """:func:`detect_languages` of texts folded already."""
    n = len(folded)
    if n == 0:
        return []
    index, share = _votes()
    tokens = np.array(VOTE_TOKEN.findall(SEP.join(folded)), dtype=object)
    sep = tokens == SEP
    doc = np.cumsum(sep)[~sep]
    row = pd.Series(tokens[~sep], dtype=object).map(index).to_numpy(dtype=float)
    seen = ~np.isnan(row)
    votes = np.zeros((n, len(LANGUAGES)))
    for j in range(len(LANGUAGES)):
        votes[:, j] = np.bincount(doc[seen], share[row[seen].astype(int), j], minlength=n)
    votes = np.round(votes, 9)  # so that halves and thirds compare exactly
    best = votes.max(axis=1)
    winners = (votes == best[:, None]).sum(axis=1)
    names = np.asarray(LANGUAGES, dtype=object)[votes.argmax(axis=1)]
    return np.where((best > 0) & (winners == 1), names, UNKNOWN).tolist()


def normalise_language(code: object) -> str | None:
    """A language code as its two-letter lower-case base (``"pt-BR"`` -> ``"pt"``); ``None``
    for missing values.

    >>> normalise_language("pt-BR"), normalise_language(" ES "), normalise_language(None)
    ('pt', 'es', None)
    """
    if code is None or (isinstance(code, float) and np.isnan(code)) or code is pd.NA:
        return None
    text = str(code).strip().lower()
    if not text:
        return None
    return re.split(r"[-_]", text)[0]
