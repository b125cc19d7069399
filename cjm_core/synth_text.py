"""Free-text survey comments for the synthetic generator, composed from phrase banks.

A comment is built from an opener, one or two details about the touchpoint and a closer,
each picked from banks per sentiment (negative / neutral / positive), so wording and tone
vary and follow the score. Some comments are written casually (lower case, short forms such
as "u" or "thx", a typo), and some are in Portuguese or Spanish. Touchpoint-specific details
come from the template (:class:`cjm_core.synth_settings.PhraseBank`); these banks are
shared.

Example::

    >>> import numpy as np
    >>> from cjm_core.synth_settings import PhraseBank
    >>> bank = PhraseBank(details={"store": {"positive": ("staff at the {tp} were lovely",)}})
    >>> text = compose_comment(np.random.default_rng(1), "en", "positive", "store", "store",
    ...                        bank)
    >>> "lovely" in text.lower()
    True
"""

from __future__ import annotations

import numpy as np

from .synth_settings import PhraseBank

OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "Really disappointed.",
            "Not happy at all.",
            "Honestly, a terrible experience.",
            "Very frustrating.",
            "Awful.",
            "Not impressed.",
            "I expected better.",
            "Worst experience in a long time.",
            "Ugh.",
        ),
        "neutral": (
            "It was ok.",
            "Mixed feelings.",
            "Fine, nothing special.",
            "Average experience.",
            "Could be better, could be worse.",
            "Not bad, not great.",
            "So-so.",
        ),
        "positive": (
            "Great experience!",
            "Very happy.",
            "Excellent.",
            "Really impressed.",
            "Loved it.",
            "Brilliant.",
            "Very pleased.",
            "Spot on.",
        ),
    },
    "pt": {
        "negative": (
            "Muito decepcionado.",
            "Péssima experiência.",
            "Que frustrante.",
            "Não gostei nada.",
        ),
        "neutral": ("Foi razoável.", "Nada de especial.", "Mais ou menos."),
        "positive": ("Excelente!", "Muito satisfeito.", "Adorei.", "Ótima experiência."),
    },
    "es": {
        "negative": (
            "Muy decepcionado.",
            "Pésima experiencia.",
            "Qué frustración.",
            "No me gustó nada.",
        ),
        "neutral": ("Estuvo bien.", "Nada especial.", "Regular."),
        "positive": ("¡Excelente!", "Muy contento.", "Me encantó.", "Gran experiencia."),
    },
}

CLOSERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "Please fix this.",
            "I'm thinking of leaving.",
            "Would not recommend.",
            "Not acceptable.",
            "Sort it out.",
            "Never again.",
            "Shame.",
        ),
        "neutral": (
            "Hope it improves.",
            "Room for improvement.",
            "We'll see.",
            "Overall fine.",
            "Does the job.",
        ),
        "positive": (
            "Thank you!",
            "Keep it up.",
            "Will recommend.",
            "Many thanks.",
            "Top marks.",
            "Five stars from me.",
        ),
    },
    "pt": {
        "negative": ("Precisam melhorar.", "Não recomendo.", "Inaceitável."),
        "neutral": ("Pode melhorar.", "No geral, ok."),
        "positive": ("Obrigado!", "Recomendo.", "Continuem assim."),
    },
    "es": {
        "negative": ("Tienen que mejorar.", "No lo recomiendo.", "Inaceptable."),
        "neutral": ("Puede mejorar.", "En general, bien."),
        "positive": ("¡Gracias!", "Lo recomiendo.", "Sigan así."),
    },
}

# Used when the template gives no phrase for a touchpoint (and for relationship surveys).
GENERIC_DETAILS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "negative": (
            "the {tp} was a pain to deal with",
            "nothing worked as it should with the {tp}",
            "I wasted a lot of time with the {tp}",
            "the {tp} was slow and confusing",
            "nobody seems to care at the {tp}",
        ),
        "neutral": (
            "the {tp} did what I needed, eventually",
            "the {tp} was fine but a bit slow",
            "no real problems with the {tp}",
            "the {tp} is average",
        ),
        "positive": (
            "the {tp} was quick and easy",
            "everything went smoothly with the {tp}",
            "the {tp} made it really simple",
            "no hassle at all with the {tp}",
        ),
    },
    "pt": {
        "negative": (
            "Sobre {tp}: demorou demais.",
            "Sobre {tp}: ninguém resolveu o meu problema.",
            "Sobre {tp}: muito confuso.",
        ),
        "neutral": ("Sobre {tp}: funcionou, mas demorou.", "Sobre {tp}: nada a reclamar."),
        "positive": ("Sobre {tp}: rápido e fácil.", "Sobre {tp}: resolveram tudo na hora."),
    },
    "es": {
        "negative": (
            "Sobre {tp}: tardaron muchísimo.",
            "Sobre {tp}: nadie me ayudó.",
            "Sobre {tp}: muy confuso.",
        ),
        "neutral": ("Sobre {tp}: funcionó, pero lento.", "Sobre {tp}: nada que reclamar."),
        "positive": ("Sobre {tp}: rápido y fácil.", "Sobre {tp}: lo resolvieron al momento."),
    },
}

SHORT_FORMS = {"you": "u", "please": "pls", "thanks": "thx", "thank you": "thx",
               "because": "bc", "really": "rly", "to be honest": "tbh", "people": "ppl",
               "great": "gr8", "minutes": "mins", "information": "info"}  # fmt: skip

OVERALL = "_overall"  # PhraseBank.details key for relationship (no-touchpoint) comments


def sentiment_of(metric: str, scores: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``negative`` / ``neutral`` / ``positive`` for each score of a metric's scale.

    NPS follows its detractor (0-6) / passive (7-8) / promoter (9-10) bands; other metrics
    use the position on the scale (below 40 % negative, above 70 % positive).
    """
    scores = np.asarray(scores, dtype=float)
    if metric == "nps":
        return np.where(scores <= 6, "negative", np.where(scores <= 8, "neutral", "positive"))
    x = (scores - lo) / (hi - lo)
    return np.where(x < 0.4, "negative", np.where(x > 0.7, "positive", "neutral"))


def _pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _casual(rng: np.random.Generator, text: str) -> str:
    text = text.lower()
    for long, short in SHORT_FORMS.items():
        text = text.replace(long, short)
    words = text.split()
    if words and rng.random() < 0.6:  # one typo: swap two letters of a longer word
        long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if long_words:
            i = long_words[int(rng.integers(len(long_words)))]
            w = words[i]
            k = int(rng.integers(1, len(w) - 2))
            words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    text = " ".join(words)
    return text.replace(".", "") if rng.random() < 0.5 else text


def compose_comment(
    rng: np.random.Generator,
    language: str,
    sentiment: str,
    touchpoint: str | None,
    name: str,
    bank: PhraseBank,
) -> str:
    """One comment in ``language`` about ``touchpoint`` (display ``name``) with a tone.

    Example::

        >>> import numpy as np
        >>> from cjm_core.synth_settings import PhraseBank
        >>> c = compose_comment(np.random.default_rng(0), "es", "negative", "branch",
        ...                     "branch", PhraseBank(details={}, names={"es": {
        ...                     "branch": "la sucursal"}}))
        >>> "la sucursal" in c
        True
    """
    lang = language if language in OPENERS else "en"
    key = touchpoint if touchpoint is not None else OVERALL
    if lang == "en":
        own = bank.details.get(key, {}).get(sentiment, ())
        details = own or GENERIC_DETAILS["en"][sentiment]
    else:
        details = GENERIC_DETAILS[lang][sentiment]
        name = bank.names.get(lang, {}).get(key, name)
    parts = []
    if rng.random() < 0.1:  # a terse answer: just the opener
        parts.append(_pick(rng, OPENERS[lang][sentiment]))
    else:
        if rng.random() < 0.65:
            parts.append(_pick(rng, OPENERS[lang][sentiment]))
        first = _pick(rng, details)
        parts.append(_sentence(first.format(tp=name)))
        if lang == "en" and len(details) > 1 and rng.random() < 0.3:
            second = _pick(rng, tuple(d for d in details if d != first))
            parts.append(_sentence(second.format(tp=name)))
        if rng.random() < 0.5:
            parts.append(_pick(rng, CLOSERS[lang][sentiment]))
    text = " ".join(parts)
    if lang == "en" and rng.random() < 0.2:
        text = _casual(rng, text)
    return text
