"""Read one sentence's parts: whether it stands on its own, and the claim it states.

Rules, not a model: the notes are written in plain declarative English (mostly by a
language model from subtitles), and the shapes that carry a fact a learner can be asked
about are few: "X is a Y", "X leads to Y", "X is caused by Y", "X works by Y". A sentence
is read as subject, verb phrase and rest; a card is made only when the subject names
something on its own (no "this", "he", "the company") and the rest is short.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from notedeck.cards.casing import common_words, countable, generic_words, word_counts

# Openings that lean on what came before: the sentence does not stand alone.
_LEANING = frozenset(
    "this these those that it its it's they them their theirs he him his she her hers "
    "such here another other others both either neither same former latter similarly "
    "likewise instead consequently meanwhile then next later finally lastly afterwards "
    "afterward again still yet but and or so nor which who whom whose also too".split()
)
# "For example", "As a result": openings whose meaning is the sentence before.
_LEANING_PHRASE = re.compile(
    r"^(?:for (?:example|instance)|as a result|as such|because of (?:this|that)|"
    r"in (?:this|that|these|such) (?:case|way|context|sense|scenario)|in contrast|"
    r"on the other hand|by contrast|in turn|in response|to (?:do|achieve) (?:this|so)|"
    r"despite (?:this|that)|due to (?:this|that)|after (?:this|that)|"
    r"at (?:this|that) (?:point|time)|"
    r"first|second|third|one|some|many|most|all|each)\b",
    re.IGNORECASE,
)
# A short opening phrase before the main clause ("In depressed individuals, ..."): kept
# in the question as its frame.
_FRAME = re.compile(
    r"^(?P<frame>(?:in|on|at|for|from|with|within|during|among|across|under|over|after|"
    r"before|when|while|once|if|unlike|like|compared to|compared with|according to|"
    r"by|through|as|since|until|without|despite|although|though|because|given)\b"
    r"[^,;:]{2,80}),\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
# Words a question's subject never opens on: prepositions, subordinators, quantifiers.
_NOT_SUBJECT = _LEANING | frozenset(
    "for one some many most few several each all any none every when where while if although "
    "though because since as after before during once until unless whereas whether how why "
    "what to in on at by with without from of over under through despite unlike like within "
    "between among across given according due rather even only just not no initially "
    "eventually originally today now currently recently previously subsequently "
    "alternatively conversely ideally typically usually often sometimes generally "
    "traditionally historically there first second third two three four five six "
    "different various certain numerous multiple what's here's there's".split()
)
_VERB_WORDS = frozenset(
    "is are was were be been being has have had do does did can could may might will would "
    "should must shall that which who whom whose than what how why when where whether".split()
)
# Verbs that mark a clause where a noun phrase should stand ("Gives more weight to ...",
# "Investigators concluded the disaster ...").
_CLAUSE_VERBS = frozenset(
    "gives makes uses helps allows provides includes offers requires creates involves shows "
    "takes gets keeps lets needs seems becomes concluded found said believed argued noted "
    "showed suggested explained claimed reported stated observed determined discovered "
    "realized realised learned learnt decided faced face faces felt feel feels describe "
    "described says think thinks thought know knows knew want wants wanted believes argues "
    "claims suggests notes insists hopes expects predicts warns believe argue claim suggest "
    "expect predict insist".split()
)
IMPERATIVES = frozenset(
    "be do don't avoid ask start stop use keep make take get set build focus question "
    "practice try embrace accept learn find create define identify write read track limit "
    "reduce increase prioritize prioritise choose let give seek stay turn think plan test "
    "check know understand consider develop cultivate treat look listen speak say follow "
    "trust share leverage remember recognize recognise allow notice shift reframe never "
    "always go see pay put run work talk add install open click select enter type copy "
    "import call pass return apply configure deploy mount initialize initialise gain "
    "overcome become grow win reach route send maintain brainstorm sync integrate allow "
    "enable leverage schedule automate".split()
)
# Words before a vague noun that leave it vague ("the main problem", "a key insight"):
# a compound ("the placebo effect") names a thing.
_VAGUE_MODIFIERS = frozenset(
    "key main primary specific significant important common major first second third last "
    "new other overall underlying final biggest big small large whole entire same real true "
    "ideal best worst initial early late current next previous particular general basic core "
    "central crucial critical essential fundamental simple notable given resulting different "
    "various elevated high higher low lower most exciting interesting promising notable "
    "recent latest biggest ultimate prime personal subtle helpful direct more less further "
    "additional another possible potential obvious clear existing long-term short-term "
    "pressing better worse alternative upcoming proposed widespread".split()
)
# Openings that place a thing among others the card does not show ("current pricing",
# "previous approaches").
_WHICH_ONE = frozenset(
    "current previous recent latest new other same main key next last initial early final "
    "overall general particular specific various different certain further additional "
    "upcoming existing".split()
)
# Adjectives that make "X is a ___ Y" a judgement, not a definition.
_EVALUATIVE = frozenset(
    "modern common powerful key crucial fundamental major significant important highly popular "
    "inherent creative great good useful effective complex intricate unique vital essential "
    "critical notable prominent leading central primary big huge massive strong simple "
    "fascinating valuable profound remarkable well-known widely powerful game-changing "
    "compelling major growing natural normal core basic foundational positive negative "
    "appropriate ongoing evolving recommended favored favoured mysterious all-encompassing "
    "end-to-end world-class top missing classic next-generation next-gen cutting-edge "
    "state-of-the-art multifaceted".split()
)
# Kinds too vague to define anything by ("A concern", "A company specializing in ...").
_VAGUE_GENUS = frozenset(
    "concern topic issue problem movement company companies firm startup candidate "
    "aspect factor element way thing things trend subject matter case example universal "
    "experience event project initiative player figure entity organization organisation "
    "business product brand question claim condition generalization generalisation "
    "example veteran order manufacturer insurer broker retailer provider maker producer "
    "operator stock ticker endeavor endeavour".split()
) | frozenset(
    # Kinds that only judge a thing ("a testament to ...", "a tapestry of ...").
    "testament tapestry treasure trove cornerstone phenomenon story victim area first "
    "consideration challenge".split()
)
# Kinds that say how a thing stands to another, not what it is, after "a"/"an" ("a part
# of breathing management", "a cause of AFP", "an alternative to the Solo Knit Band");
# "the part of the brain responsible for ..." names the one part, and defines.
_RELATIONAL_GENUS = frozenset(
    "part parts component piece cause hallmark sign source extension alternative version "
    "reason risk differential".split()
)
_SAYS_WHICH = re.compile(
    r"\b(?:that|which|who|whose|where|whereby|responsible|designed|used|characteri[sz]ed|"
    r"allowing|enabling|made|built)\b",
    re.IGNORECASE,
)


def _bare_relation(definition: str) -> bool:
    """ "a part of breathing management", "a cause of AFP": a relational kind after "a"/"an"
    that goes on to say nothing of which one ("a part of the brain that enables ..."
    does, and so does "the part of the brain ...")."""
    return bool(re.match(r"(?i)an?\s", definition)) and not _SAYS_WHICH.search(definition)


# Adverbs of degree before a kind leave it a kind ("a particularly exciting area").
_DEGREE = frozenset(
    "particularly especially increasingly highly truly really very extremely incredibly "
    "relatively fairly quite rather".split()
)
# A definition that compares ("A smaller branch compared to ...") says how big, not what.
_COMPARES = re.compile(
    r"^\S+\s+(?:\S+\s+){0,3}?(?:more|less|smaller|larger|bigger|stronger|weaker|better|worse|"
    r"higher|lower|faster|slower|greater|compared|similar)\b",
    re.IGNORECASE,
)
# A word that many notes write in lower case names a broad field ("mathematics",
# "intelligence"): a note's one sentence on it is its view, not a definition to recall.
_BROAD_NOTES = 150


# Acronyms every note of a kind uses: "What is AI?" is too broad, "the AI" names nothing.
GENERIC_ACRONYMS = frozenset("AI ML LLM LLMs API APIs UI CPU GPU SDK CEO".split())


def _broad(subject: str, title_words: frozenset[str]) -> bool:
    content = [w for w in words(subject) if w.lower() not in {"the", "a", "an"}]
    if len(content) != 1:
        return False
    if content[0] in GENERIC_ACRONYMS:
        return True
    if not content[0].islower():
        return False
    # Even as the note's own topic ("What is passion?" in a note on passion): blind reads
    # dropped such definitions as platitudes.
    return word_counts().get(content[0], 0) >= _BROAD_NOTES


_FINITE = frozenset(
    "can could will would may might is are was were has have had does do found shows showed "
    "helps helped works worked arises arose reflects ensures ensured allows allowed makes "
    "made means meant remains became becomes needs needed seems seemed appears".split()
)
_RELATIVE = frozenset("that which who whom whose where when while whereby".split())


def _own_clause(rest: str) -> bool:
    """Whether what follows "X is" is a sentence of its own ("a hidden PE of one might be
    found ...", "an agent works in the background ..."), not a kind and what sets it apart
    ("a protein that helps ..."): a verb comes before any "that", "which" or comma."""
    ws = rest.split()[1:8]
    for n, word in enumerate(ws):
        bare = word.strip("\"'()").lower()
        if bare in _RELATIVE or word.endswith((",", ";", ":")):
            return False
        if bare in _FINITE:
            return True
        if bare.endswith("ly") and n + 1 < len(ws) and ws[n + 1].endswith(("s", "ed")):
            return True  # "a 25-stock portfolio generally provides ..."
    return False


# "the most common cause of X", "the investigation of choice for X", "the first drug
# approved for X": one thing singled out within a scope the question can carry.
_RANKED = re.compile(
    r"^the\s+(?:(?:most|least)\s+(?:\w+\s+){1,2}?|(?:first|last|only|largest|smallest|"
    r"biggest|main|primary|leading|first-line|gold standard|\w{3,}est)\s+(?:\w+\s+){0,2}?|"
    r"(?:\w+\s+){1,2}?of choice\s+)"
    r"(?:[\w-]+\s+)?(?:of|for|in|to|among|behind)\s+\S.*$",
    re.IGNORECASE,
)
_RANKED_VAGUE = frozenset(
    "thing things aspect aspects factor factors way ways part parts one ones step steps "
    "example examples reason reasons lesson lessons point points takeaway idea ideas "
    "challenge challenges problem problems issue issues".split()
)


def _ranked_claim(subject: str, rest: str, be: str, title_words: frozenset[str]) -> Claim | None:
    """ "X is the most common cause of Y" asked as "What is the most common cause of Y?"
    with X the answer, where X names one thing and the ranking has a scope."""
    rest = rest.strip().rstrip(".")
    if not _RANKED.match(rest) or len(rest.split()) > 16 or has_pronoun(rest):
        return None
    if any(w.lower() in _RANKED_VAGUE for w in words(rest)[:5]) or negated(rest):
        return None
    if fit_subject(subject, title_words) is not None or len(words(subject)) > 6:
        return None
    if re.search(r"\b(?:and|or)\b", subject) or "," in rest:
        return None
    asked = "were" if be in {"was", "were"} and plural(subject) else be
    if be in {"are", "were"} and not plural(rest.split(" of ")[0]):
        return None  # "X and Y are the best ...": several things, one slot
    answer = subject[:1].upper() + subject[1:]
    return Claim(subject, "ranking", f"What {asked} {rest}?", answer, 3.0)


def _ticker(subject: str) -> bool:
    """ "Malibu (MBUU)", "Enbridge (ENB)": a name with a stock ticker, unlike "the default
    mode network (DMN)", whose capitals are the initials of the words before them."""
    m = re.fullmatch(r"(?P<name>.+?)\s*\((?P<caps>[A-Z]{2,5})\)", subject.strip())
    if m is None:
        return False
    kept = [w for w in re.split(r"[\s-]+", m.group("name")) if w.lower() not in _SMALL]
    initials = "".join(w[:1] for w in kept).upper()
    return initials not in {m.group("caps"), m.group("caps").removesuffix("S")}


_SMALL = frozenset("the a an of and for in on to".split())


def _proper_name(subject: str) -> bool:
    """Whether a subject is a name ("OceanGate", "Minnesota Governor Tim Walz") rather than
    a term: every word capitalised and some word one notes never write in lower case."""
    ws = [w for w in words(subject) if w.lower() not in {"the", "a", "an", "of", "and"}]
    if not ws or any(w.isupper() for w in ws):
        return False  # an acronym is a term ("MCP", "PEG ratio")
    if not all(w[:1].isupper() for w in ws):
        return False
    common = common_words()
    return any(w.lower() not in common for w in ws) or len(ws) == 1


_ENDS_OPEN = frozenset(
    "of in on at to for from by with about into over under the a an and or but than as "
    "like between among through".split()
)
_PRONOUNS = frozenset(
    "this these those it its it's they them their theirs he him his she her hers "
    "we us our i me my you your".split()
)
# "The company", "the speaker": a definite noun that points back to a name elsewhere.
_POINTING_NOUNS = frozenset(
    "speaker speakers host hosts guest guests author authors narrator presenter creator "
    "interviewer interviewee video videos episode podcast discussion conversation "
    "interview talk lecture channel transcript article note section company companies "
    "firm startup team project book film movie study paper report product app model "
    "man woman person individual group organization organisation country city show "
    "story case example situation approach method process technique idea concept "
    "way thing things one key goal point problem issue aspect part result reason "
    "factor step focus question answer solution main first second last former latter "
    "same other rest new old former current original above following insight insights "
    "difference differences factor factors element elements benefit benefits challenge "
    "challenges concern concerns lesson lessons takeaway takeaways strategy strategies "
    "principle principles feature features component components consequence consequences "
    "finding findings outcome outcomes effect effects impact implication implications "
    "observation observations realization shift change changes trend trends role "
    "advantage advantages option options tool tools practice practices habit habits "
    "example examples distinction move decision goal goals thing source sources behavior "
    "behaviour level levels line roadblock obstacle barrier driver drivers cause causes "
    "reason reasons context contexts value values phenomenon phenomena technique "
    "techniques method methods version versions type types kind kinds form forms curve "
    "iteration iterations strategies graph output outputs points results metaphor analogy "
    "illustration instance theme themes revelation characteristic desire".split()
)
_META = re.compile(
    r"\b(?:the (?:speaker|host|guest|video|episode|podcast|discussion|conversation|"
    r"interview|lecture|talk|presenter|narrator|creator|author|channel|transcript)|"
    r"this (?:video|episode|podcast|discussion|conversation|interview|lecture|talk|note)|"
    r"(?:is|are|was|were) (?:discussed|explored|covered|highlighted|mentioned|examined)|"
    r"(?:discussion|conversation) (?:explores|explored|covers|covered|touches|touched))\b",
    re.IGNORECASE,
)
# "Boz emphasizes that ...", "Huberman notes that ...": the claim after "that" is read.
_SAYS = re.compile(
    r"^(?P<who>(?:[A-Z][\w.'\u2019-]*\s){0,2}[A-Z][\w.'\u2019-]*)\s+"
    r"(?:also\s+)?(?:emphasi[sz]es|emphasi[sz]ed|notes|noted|argues|argued|explains|explained|"
    r"states|stated|believes|believed|suggests|suggested|says|said|mentions|mentioned|"
    r"highlights|highlighted|stresses|stressed|points out|pointed out|asserts|asserted|"
    r"contends|claims|claimed|observes|observed|recommends|warns|warned|posits|"
    r"acknowledges|acknowledged|maintains|insists|clarifies|clarified|advises)\s+that\s+",
)
# "Research shows that X", "A 2018 study demonstrated that X": the claim is X.
_FINDS = re.compile(
    r"^(?:(?:a|an|the|one|recent|several|many|some|new)\s+)?(?:[\w-]+\s+){0,3}"
    r"(?:research|studies|study|evidence|data|experiments?|trials?|findings|surveys?|analysis|"
    r"scientists|researchers|experts)\s+(?:also\s+)?(?:shows?|showed|shown|demonstrates?|"
    r"demonstrated|finds|found|suggests?|suggested|indicates?|indicated|reveals?|revealed|"
    r"confirms?|confirmed|proves?|proved)\s+that\s+",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"n't\b|\b(?:not|no|never|cannot|neither|nor)\b", re.IGNORECASE)
_WORDS = re.compile(r"[\w'\u2019-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """A list item's text as sentences ("Boz did X. He then Y." -> two)."""
    parts = _SENTENCE_END.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def first_word(text: str) -> str:
    found = _WORDS.search(text)
    return found.group().lower() if found else ""


def loose(text: str, fillers: Sequence[str]) -> str:
    """The sentence without an opening that carries no fact ("However,", "It is crucial to
    note that"): `fillers` are those openings, lower case, longest first (fillers.txt)."""
    for _ in range(2):  # "However, it is important to note that ..."
        low = text.lower()
        for filler in fillers:
            if not low.startswith(filler):
                continue
            rest = text[len(filler) :]
            if not filler.endswith(",") and rest[:1] not in (" ", ","):
                continue  # "thus" is no opening of "thusly"
            rest = rest.lstrip(" ,")
            if not rest[:1].isalnum() and rest[:1] not in "\"'\u201c":
                return text
            text = rest[:1].upper() + rest[1:]
            break
        else:
            return text
    return text


def leans(text: str) -> bool:
    """Whether a sentence opens on a word or phrase that needs the sentence before it."""
    return first_word(text) in _LEANING or _LEANING_PHRASE.match(text) is not None


def framed(text: str) -> tuple[str, str]:
    """("In depressed individuals, X is Y") -> ("In depressed individuals", "X is Y")."""
    m = _FRAME.match(text)
    if m is None or has_pronoun(m.group("frame")) or len(m.group("frame").split()) > 10:
        return "", text
    rest = m.group("rest")
    if first_word(m.group("frame")) in {"while", "although", "though", "despite"}:
        return "", rest  # a concession frames nothing the question needs
    return m.group("frame"), rest


def has_pronoun(text: str) -> bool:
    return any(w.lower() in _PRONOUNS for w in words(text))


def is_meta(text: str) -> bool:
    """A sentence about the video or the discussion rather than about the topic."""
    return _META.search(text) is not None


def unsaid(text: str) -> tuple[str, str]:
    """("Boz emphasizes that X") -> ("X", "Boz"): the claim, and who made it."""
    found = _FINDS.match(text)
    if found is not None and not has_pronoun(found.group()):
        rest = text[found.end() :]
        return rest[:1].upper() + rest[1:], found.group().strip()
    m = _SAYS.match(text)
    if m is None or first_word(m.group("who")) in _LEANING:
        return text, ""
    rest = text[m.end() :]
    return rest[:1].upper() + rest[1:], m.group("who")


def negated(text: str) -> bool:
    return _NEGATION.search(text) is not None


@dataclass(frozen=True, slots=True)
class Claim:
    """A sentence read as "subject, relation, rest": the parts a question is built from."""

    subject: str  # as written in the sentence ("The default mode network")
    relation: str  # the rule's name ("definition", "leads to", ...)
    question: str  # the question, subject in place
    answer: str  # the rest of the sentence: what the question asks for
    weight: float  # how sharp a cue this relation gives, before the sentence's own score


# One verb of a relation: (3rd person singular, plural, past) forms, then the question
# (present, past) with {S} for the subject and {do} for does/do/did.
@dataclass(frozen=True, slots=True)
class _Verb:
    name: str
    forms: tuple[str, str, str]
    asks: str  # "What {do} {S} lead to?"
    weight: float


def _verb(name: str, forms: str, asks: str, weight: float = 2.0) -> _Verb:
    s3, plural, past = forms.split("|")
    return _Verb(name, (s3, plural, past), asks, weight)


# Relations whose questions blind reads (about 1,100 judged cards, 2026-12-06) kept one
# time in five or less are left out: "What does X indicate / serve as / act as /
# determine / predict / target / demonstrate / result in?", "What is X associated with?"
# (a soft link with many right answers, or a role that is not what X is).
_VERBS = (
    _verb("leads to", "leads to|lead to|led to", "What {do} {S} lead to?", 2.5),
    _verb("causes", "causes|cause|caused", "What {do} {S} cause?", 2.5),
    _verb("triggers", "triggers|trigger|triggered", "What {do} {S} trigger?", 2.5),
    _verb("enables", "enables|enable|enabled", "What {do} {S} enable?", 2.0),
    _verb("prevents", "prevents|prevent|prevented", "What {do} {S} prevent?", 2.5),
    _verb("reduces", "reduces|reduce|reduced", "What {do} {S} reduce?", 2.5),
    _verb("increases", "increases|increase|increased", "What {do} {S} increase?", 2.5),
    _verb("improves", "improves|improve|improved", "What {do} {S} improve?", 2.0),
    _verb("boosts", "boosts|boost|boosted", "What {do} {S} boost?", 2.0),
    _verb("lowers", "lowers|lower|lowered", "What {do} {S} lower?", 2.0),
    _verb("inhibits", "inhibits|inhibit|inhibited", "What {do} {S} inhibit?", 2.5),
    _verb("blocks", "blocks|block|blocked", "What {do} {S} block?", 2.5),
    _verb("activates", "activates|activate|activated", "What {do} {S} activate?", 2.5),
    _verb("releases", "releases|release|released", "What {do} {S} release?", 2.0),
    _verb("regulates", "regulates|regulate|regulated", "What {do} {S} regulate?", 2.5),
    _verb("depends on", "depends on|depend on|depended on", "What {do} {S} depend on?", 2.5),
    _verb("works by", "works by|work by|worked by", "How {do} {S} work?", 3.0),
    _verb(
        "functions as", "functions as|function as|functioned as", "What {do} {S} function as?", 2.5
    ),
    _verb("refers to", "refers to|refer to|referred to", "What {do} {S} refer to?", 3.0),
    _verb("means", "means|mean|meant", "What {do} {S} mean?", 2.5),
    _verb("represents", "represents|represent|represented", "What {do} {S} represent?", 2.0),
    _verb("consists of", "consists of|consist of|consisted of", "What {do} {S} consist of?", 2.0),
    _verb(
        "protects against",
        "protects against|protect against|protected against",
        "What {do} {S} protect against?",
        2.5,
    ),
    _verb("occurs when", "occurs when|occur when|occurred when", "When {do} {S} occur?", 2.5),
    _verb("happens when", "happens when|happen when|happened when", "When {do} {S} happen?", 2.0),
    _verb("replaces", "replaces|replace|replaced", "What {do} {S} replace?", 2.0),
    _verb("slows", "slows|slow|slowed", "What {do} {S} slow?", 2.0),
    _verb("accelerates", "accelerates|accelerate|accelerated", "What {do} {S} accelerate?", 2.0),
    _verb("damages", "damages|damage|damaged", "What {do} {S} damage?", 2.0),
    _verb("stores", "stores|store|stored", "What {do} {S} store?", 2.0),
    _verb("drives", "drives|drive|drove", "What {do} {S} drive?", 2.0),
    _verb(
        "is similar to",
        "is similar to|are similar to|was similar to",
        "What {be} {S} similar to?",
        1.8,
    ),
    _verb(
        "competes with",
        "competes with|compete with|competed with",
        "What {do} {S} compete with?",
        1.8,
    ),
    _verb("signals", "signals|signal|signaled", "What {do} {S} signal?", 2.2),
    _verb("shows that", "shows that|show that|showed that", "What {do} {S} show?", 2.2),
    _verb("reveals that", "reveals that|reveal that|revealed that", "What {do} {S} reveal?", 2.2),
    _verb(
        "illustrates how",
        "illustrates how|illustrate how|illustrated how",
        "What {do} {S} illustrate?",
        2.0,
    ),
    _verb("stands for", "stands for|stand for|stood for", "What {do} {S} stand for?", 3.0),
    _verb("binds to", "binds to|bind to|bound to", "What {do} {S} bind to?", 2.8),
    _verb("treats", "treats|treat|treated", "What {do} {S} treat?", 2.5),
    _verb("encodes", "encodes|encode|encoded", "What {do} {S} encode?", 2.5),
    _verb("secretes", "secretes|secrete|secreted", "What {do} {S} secrete?", 2.8),
    _verb("absorbs", "absorbs|absorb|absorbed", "What {do} {S} absorb?", 2.5),
    _verb("transports", "transports|transport|transported", "What {do} {S} transport?", 2.5),
    _verb("breaks down", "breaks down|break down|broke down", "What {do} {S} break down?", 2.5),
    _verb("mimics", "mimics|mimic|mimicked", "What {do} {S} mimic?", 2.5),
    _verb("converts", "converts|convert|converted", "What {do} {S} convert?", 2.0),
    _verb("controls", "controls|control|controlled", "What {do} {S} control?", 2.0),
    _verb("generates", "generates|generate|generated", "What {do} {S} generate?", 2.0),
)
# "X is caused by Y" and its kin: (the participle and what follows, the question).
# Not "X is designed to/for ...": blind reads (600 judged cards, 2026-12-06) kept 2 of
# 20 "What is X designed to do?", an open front with many right answers.
_PASSIVES = (
    ("caused by", "What cause{s} {S}?", 2.5),
    ("driven by", "What drive{s} {S}?", 2.5),
    ("determined by", "What determine{s} {S}?", 2.5),
    ("triggered by", "What trigger{s} {S}?", 2.5),
    ("regulated by", "What regulate{s} {S}?", 2.5),
    ("characterized by", "What characterize{s} {S}?", 2.0),
    ("characterised by", "What characterise{s} {S}?", 2.0),
    ("defined as", "How {be} {S} defined?", 3.0),
    ("defined by", "What define{s} {S}?", 2.5),
    ("known as", "What {be} {S} known as?", 1.5),
    ("known for", "What {be} {S} known for?", 2.0),
    ("used to", "What {be} {S} used for?", 2.0),
    ("used for", "What {be} {S} used for?", 2.0),
    ("used in", "What {be} {S} used in?", 1.5),
    ("responsible for", "What {be} {S} responsible for?", 2.5),
    ("linked to", "What {be} {S} linked to?", 2.0),
    ("based on", "What {be} {S} based on?", 2.0),
    ("made of", "What {be} {S} made of?", 2.0),
    ("made from", "What {be} {S} made from?", 2.0),
    ("made up of", "What {be} {S} made up of?", 2.0),
    ("found in", "Where {be} {S} found?", 2.5),
    ("located in", "Where {be} {S} located?", 2.5),
    ("produced by", "What produce{s} {S}?", 2.5),
    ("measured in", "What {be} {S} measured in?", 2.5),
    ("transmitted by", "What transmit{s} {S}?", 2.8),
    ("treated with", "What {be} {S} treated with?", 2.8),
    ("derived from", "What {be} {S} derived from?", 2.0),
    ("composed of", "What {be} {S} composed of?", 2.0),
    ("introduced by", "Who introduce{s} {S}?", 2.5),
    ("developed by", "Who develop{s} {S}?", 2.5),
    ("invented by", "Who invent{s} {S}?", 2.8),
    ("founded by", "Who found{s} {S}?", 2.8),
    ("coined by", "Who coin{s} {S}?", 2.8),
    ("proposed by", "Who propose{s} {S}?", 2.5),
    ("discovered by", "Who discover{s} {S}?", 2.8),
    ("pioneered by", "Who pioneer{s} {S}?", 2.5),
)
_ADVERBS = (
    r"(?:(?:also|often|typically|usually|generally|directly|ultimately|primarily|largely|"
    r"mainly|significantly|frequently|eventually|actually|essentially|fundamentally|"
    r"effectively|still|further|then|commonly|naturally|dramatically|greatly|strongly|"
    r"primarily|specifically|indirectly|partly|partially|mostly|sometimes|inevitably|"
    r"actively|simply|only|even|substantially|consistently|reliably)\s+)*"
)
_MODALS = r"(?P<modal>can|could|may|might|will|would|tends? to|tended to)\s+"


def _spaced(phrase: str) -> str:
    return r"\s+".join(re.escape(w) for w in phrase.split())


# Past forms read as verbs; the others' ("increased inflammation") are mostly adjectives.
_PAST_VERBS = frozenset(
    {
        "leads to",
        "causes",
        "results in",
        "triggers",
        "enables",
        "prevents",
        "demonstrates that",
        "shows that",
        "reveals that",
    }
)


def _build_relations() -> tuple[tuple[re.Pattern[str], _Verb | tuple[str, str, float]], ...]:
    found: list[tuple[re.Pattern[str], _Verb | tuple[str, str, float]]] = []
    for verb in _VERBS:
        s3, plural, past = verb.forms
        if verb.name not in _PAST_VERBS:
            past = "\x00never"
        alts = "|".join(
            f"(?P<{tag}>{_spaced(form)})"
            for tag, form in (("s3", s3), ("pl", plural), ("past", past))
        )
        found.append(
            (re.compile(rf"(?<!\bto)\s+{_ADVERBS}(?:{_MODALS}{_ADVERBS})?(?:{alts})\s+"), verb)
        )
    for participle, asks, weight in _PASSIVES:
        found.append(
            (
                re.compile(
                    rf"\s+(?:{_MODALS})?(?P<be>is|are|was|were|be)\s+{_ADVERBS}"
                    rf"{_spaced(participle)}\s+"
                ),
                (participle, asks, weight),
            )
        )
    return tuple(found)


_RELATIONS = _build_relations()
_BE = frozenset({"is", "are", "was", "were"})
# The first words a label's text may go on with, the label its subject ("**Cloud
# functions:** Act as a gateway ...", "**POST:** Used to create ..."): a relation's verb,
# or the participle of a passive one.
_PREDICATE_VERBS = frozenset(
    f.split()[0] for v in _VERBS for f in v.forms[:2] if f.split()[0] not in _BE
)
_PREDICATE_STATES = frozenset(p.split()[0] for p, _, _ in _PASSIVES)


def predicate_start(text: str) -> str | None:
    """ "verb" or "state" when `text` opens on what a relation says of its subject."""
    first = first_word(text)
    if first in _PREDICATE_STATES:
        return "state"
    return "verb" if first in _PREDICATE_VERBS else None


_HOW_OR_WHY = frozenset({"by", "through", "via", "using", "because", "due", "since", "as"})


def _anchor(relation: _Verb | tuple[str, str, float]) -> frozenset[str]:
    """The words one of whose presence a relation's pattern needs (its verb's forms, or the
    participle of a passive): a sentence without any is not searched for it."""
    if isinstance(relation, _Verb):
        return frozenset(form.split()[0] for form in relation.forms)
    return frozenset({relation[0].split()[0]})


# Searching every relation's pattern in every sentence cost 20 ms a note; most sentences
# hold none of their verbs, and a set lookup per word tells which patterns can match.
_ANCHORED = tuple((regex, relation, _anchor(relation)) for regex, relation in _RELATIONS)
_COPULA = re.compile(
    rf"\s+(?P<be>is|are|was|were)\s+{_ADVERBS}(?P<det>an?|the|one of the|one of)\s+",
)
_PERSON = re.compile(
    r"(?:an?|the|one of the)\s+(?:[\w-]+\s+){0,3}(?:researcher|scientist|founder|co-founder|"
    r"ceo|author|professor|engineer|investor|entrepreneur|philosopher|psychologist|economist|"
    r"writer|artist|president|doctor|physician|neuroscientist|player|politician|"
    r"journalist|historian|inventor|designer|musician|singer|actor|coach|athlete|"
    r"king|queen|emperor|scholar|left-hander|right-hander|psychiatrist|mathematician|physicist|chemist|"
    r"biologist|teacher|mentor|host|creator|youtuber|analyst|strategist|"
    r"man|woman|person|figure|laureate|cricketer|batsman|bowler|marketer|investor|senator|"
    r"governor|minister|chairman|chairwoman|lawyer|judge|comedian|rapper|streamer|podcaster|"
    r"influencer|capitalist|billionaire|trader|manager|officer|soldier|monk|priest|surgeon|"
    r"nurse|dentist|colleague|friend|partner|advisor|adviser|consultant|candidate|"
    r"spokesperson|activist|reporter|anchor|commentator|cofounder|co-founder|owner)s?\b",
    re.IGNORECASE,
)
_PLURAL_WORDS = frozenset("people children criteria phenomena data media men women".split())
_SINGULAR_S = frozenset(
    "news series species analysis basis crisis thesis diagnosis status bias chaos lens gas "
    "physics economics mathematics ethics politics genesis".split()
)


def plural(subject: str) -> bool:
    first = subject.split()[0].lower() if subject.split() else ""
    if first.endswith("ing") and len(first) > 4:
        return False  # "building applications" is one activity
    head = re.split(
        r"\s+(?:of|in|for|on|with|from|to|at|by|within|between|among)\s+", subject, maxsplit=1
    )[0]
    head = re.split(r"\s\w+(?:ing|ed)\b", f" {head}", maxsplit=1)[0].strip() or head
    if re.search(r"\s(?:and|&)\s", head):
        return True
    word = head.split()[-1].strip("'\u2019\"()") if head.split() else ""
    if word.isupper():
        return False  # "MOSES", "AWS": an acronym is one thing ("LLMs" is many)
    last = word.lower()
    if last in _PLURAL_WORDS:
        return True
    if last in _SINGULAR_S or last.endswith(("ss", "us", "is", "'s", "\u2019s")):
        return False
    return last.endswith("s") and len(last) > 3


_PLACES = frozenset(
    "above below beneath under over inside outside within among beyond behind beside "
    "between near across along around".split()
)


# Nouns that stand for a name given elsewhere in the note ("the city", "the company").
_NAMED_ELSEWHERE = frozenset(
    "company companies firm startup team project book film movie study paper report product "
    "app man woman person group organization organisation country city show speaker host "
    "guest author channel video podcast episode platform".split()
)


def points_back(question: str) -> bool:
    """Whether a question leans on a name the card never gives ("... return to the city?",
    "What does the company sell?"): "the" and a noun that stands for a name elsewhere."""
    for m in re.finditer(r"\bthe\s+([a-z]+)\b(?!\s+(?:of|in|called|named|known)\b)", question):
        if m.group(1) in _NAMED_ELSEWHERE:
            return True
    return False


def fit_subject(subject: str, title_words: frozenset[str]) -> str | None:
    """Why `subject` cannot head a question, or None when it names something on its own."""
    ws = words(subject)
    if not ws:
        return "no subject"
    if len(ws) > 7:
        return "subject too long"
    if any(mark in subject for mark in ',;:"\u201c\u201d\u2014\u2013'):
        return "subject is a clause"
    first = ws[0].lower()
    if first in _NOT_SUBJECT or first in _PRONOUNS:
        return f"subject opens on '{ws[0]}'"
    if first in _PLACES:
        return f"subject opens on '{ws[0]}' (a place, not a thing)"  # "Above the brainstem is"
    if _NEGATION.search(subject):
        return "negated"  # "synthetic meshes cannot (be used in ...)"
    if any(w.lower() in _PRONOUNS for w in ws):
        return "subject holds a pronoun"
    owner = re.search(r"\bthe\s+([a-z]+)(?:'s|\u2019s)\s", subject)
    if owner is not None and owner.group(1) in _POINTING_NOUNS:
        return "subject points back to something named elsewhere"  # "the company's IPO"
    if any(w.lower() in {"itself", "themselves", "such", "highlighted", "mentioned"} for w in ws):
        return "subject points back to something named elsewhere"
    if any(w.lower() in _VERB_WORDS or w.lower() in _CLAUSE_VERBS for w in ws):
        return "subject is a clause"
    if len(ws) > 3 and any(w.lower() in {"and", "or"} for w in ws):
        return "subject names several things"
    if ws[0].lower() in IMPERATIVES or (ws[0].lower() in _ACTIONS and ws[0][:1].isupper()):
        return "an instruction, not a statement"
    if ws[-1].lower() in _ENDS_OPEN:
        return "subject is cut short"
    aim = re.search(r"\bto\s+([a-z]+)", subject)
    if aim is not None and (aim.group(1) in IMPERATIVES or aim.group(1) in _ACTIONS):
        return "subject holds a verb (an aim, not a thing)"
    if "." in subject.rstrip(".") or re.search(r"\b(?:like|such as|e\.g)\b", subject):
        return "subject holds an example or abbreviation"
    if re.match(r"^(?:[A-Z][\w'-]+\s+){1,3}(?:[a-z]+ly\s+)?[a-z]+s\b", subject) and len(ws) > 2:
        return "subject is a clause"  # "Christina recommends ...", "X fundamentally challenges"
    if re.search(r"\b[a-z]+ly\s+[a-z]+s\b", subject):
        return "subject is a clause"
    if (
        first in {"the", "a", "an", "one"}
        and len(ws) > 1
        and (
            ws[1].lower() in _VAGUE_MODIFIERS
            or ws[1].lower() in _EVALUATIVE
            or ws[1].lower() in {"surprising", "interesting", "ideal", "lower", "higher"}
            or ws[1].lower() in _DEGREE
        )
    ):
        return f"'{subject}' says what kind, not what thing"
    if (
        first in {"a", "an"}
        and len(ws) > 2
        and (ws[1].lower() in _POINTING_NOUNS or (ws[1].endswith("ing") and ws[1].islower()))
    ):
        return f"'{subject}' is one of many, not a thing to define"  # "a recurring theme"
    if first in _WHICH_ONE and len(ws) > 1:
        return f"'{subject}' says what kind, not what thing"  # "current pricing"
    verbish = ws[0].lower()
    if verbish.endswith("s") and (verbish[:-1] in IMPERATIVES or verbish[:-1] in _ACTIONS):
        return "subject opens on a verb (an instruction or a list item)"
    content = [w for w in ws if w.lower() not in {"the", "a", "an"}]
    if not content:
        return "no subject"
    if first in {"the", "a", "an"} and len(content) == 1:
        word = content[0]
        if word[:1].islower() and word.lower() not in title_words:
            return f"'{subject}' points back to something named elsewhere"
    head = re.split(r"\s+(?:of|in|for|to|on|with|from|behind|about)\s+", subject, maxsplit=1)[0]
    head_words = [w for w in words(head) if w.lower() not in {"the", "a", "an"}]
    if (
        head_words
        and head_words[-1].lower() in _POINTING_NOUNS
        and (first in {"a", "an"} or all(w.lower() in _VAGUE_MODIFIERS for w in head_words[:-1]))
    ):  # "the main problem"; any "a tragic example", "a metaphor for ..."
        return f"'{subject}' points back to something named elsewhere"
    if re.search(
        r"\b(?:1[5-9]|20)\d\d\b|\b(?:January|February|March|April|June|July|August|"
        r"September|October|November|December)\b",
        subject,
    ):
        return "subject is a date (a detail of a story)"
    if any(len(w) == 1 and w not in {"a", "A", "I"} for w in ws):
        return "subject names a variable of an example"
    lone = content[0] if len(content) == 1 else ""
    if lone[:1].isupper() and lone.lower() not in title_words and not lone.isupper():
        return f"'{subject}' is a name the card cannot place (an example's?)"
    if len(content) == 1 and content[0].lower() in _POINTING_NOUNS:
        return f"'{subject}' is too vague"
    return None


def claim(
    sentence: str, title_words: frozenset[str], case: Callable[[str], str]
) -> tuple[Claim | None, str]:
    """The claim a sentence states, or None and why none could be read."""
    text = _QUOTED_TERM.sub(r"\g<det>\g<term>", sentence.rstrip(" .!;:"), count=1)
    best: tuple[int, Claim] | None = None
    why = "no relation a question can be built on"
    present = {w.lower() for w in words(text)}
    for regex, verb, anchor in _ANCHORED:
        if present.isdisjoint(anchor):
            continue
        m = regex.search(text)
        if m is None:
            continue
        if best is not None and m.start() >= best[0]:
            continue
        subject, rest = text[: m.start()], text[m.end() :]
        made, refused = _claim(case(subject), rest, m, verb, title_words)
        if made is None:
            why = refused
            continue
        best = (m.start(), made)
    m = _COPULA.search(text) if not present.isdisjoint(_BE) else None
    if m is not None and (best is None or m.start() < best[0]):
        subject, rest = text[: m.start()], m.group("det") + " " + text[m.end() :]
        reason = fit_subject(case(subject), title_words)
        ranked = re.match(
            r"one of\b|(?:the)\s+(?:most|least|first|last|only|largest|"
            r"biggest|best|worst|main|primary|leading|single|\w+est)\b|"
            r"the\s+(?:\w+\s+){1,2}of choice\b|the gold standard\b|the first-line\b",
            rest,
        )
        if ranked:
            # "Streptococcus pneumoniae is the most common cause of pneumonia": asked the
            # other way round, the superlative is the cue and the subject the answer.
            inverted = _ranked_claim(case(subject), rest, m.group("be"), title_words)
            if inverted is not None:
                return _lasting(inverted)
            reason = "a ranking without a scope (which one of what?)"
        if reason is None and subject.split()[0].lower().endswith("ing"):
            reason = "an activity, not a thing to define"
        if reason is None and _own_clause(rest):
            reason = "the 'definition' is a sentence of its own, not what the subject is"
        if reason is None:
            reason = _undefining(rest)
        if reason is None and _ticker(subject):
            reason = "a company's ticker: an example's stock, not an idea of the note"
        if reason is None and _proper_name(case(subject)):
            reason = "a name: its background is trivia, not an idea of the note"
        if reason is None and _broad(case(subject), title_words):
            reason = "a broad field: one sentence on it is a view, not a definition"
        if reason is None and re.fullmatch(r"(?i:the)\s+[a-z-]+", case(subject)):
            reason = f"'{subject}' points back to something named elsewhere (which one?)"
        if reason is None and not re.search(r"\b(?:and|or)\b", subject):
            past = m.group("be") in {"was", "were"}
            many = m.group("be") in {"are", "were"}
            be = ("were" if many else "was") if past else ("are" if many else "is")
            if _PERSON.match(rest):
                return None, "a person's biography, not an idea of the note"
            question = f"What {be} {_lead(_articled(case(subject)))}?"
            best = (m.start(), Claim(case(subject), "definition", question, rest, 3.0))
        elif reason:
            why = reason
    m = _APPOSITION.match(text)
    if best is None and m is not None and fit_subject(case(m.group("s")), title_words) is None:
        subject = case(m.group("s"))
        if _PERSON.match(m.group("d")):
            return None, "a person's biography, not an idea of the note"
        if _proper_name(subject):
            return None, "a name: its background is trivia, not an idea of the note"
        if m.group("d").lower().startswith("one of"):
            return None, "a ranking without a scope (which one of what?)"
        undefined = _undefining(m.group("d"))
        if undefined is not None:
            return None, undefined
        be = "are" if plural(subject) else "is"
        question = f"What {be} {_lead(_articled(subject))}?"
        return _lasting(Claim(subject, "definition", question, m.group("d"), 2.8))
    if best is None:
        found = _how_or_why(text, title_words, case) if present & _HOW_OR_WHY else None
        if found is not None:
            return _lasting(found)
        return None, why
    return _lasting(best[1])


def _undefining(definition: str) -> str | None:
    """Why what follows "X is" (or "X, a ...,") defines nothing, or None when it does."""
    if any(w.lower() in _EVALUATIVE for w in words(definition)[1:3]):
        return "the definition only praises or ranks (a platitude)"
    head = re.split(r"\s+(?:of|that|which|who|in|for|with|to|on|from|where|;)\b", definition)[0]
    kinds = {w.lower() for w in words(head)[1:5]}
    if kinds & _VAGUE_GENUS:
        return "the definition names only a vague kind ('a concern', 'a company')"
    if kinds & _RELATIONAL_GENUS and _bare_relation(definition):
        return "says how it stands to another thing ('a part of', 'a cause of'), not what"
    named = r"an?\s+(?:\w+\s+)?(?:term|word|phrase|name|label)\s+(?:coined|used|introduced|first)\b"
    if re.match(named, definition):
        return "says who named it, not what it is"
    if re.search(r"\b(?:rather than|instead of)\b", " ".join(definition.split()[:6])):
        return "says what it is not ('rather than ...'), more than what it is"
    if len(definition.split()) <= _THIN:
        return "too thin to define ('a bone infection'): a kind, not which one"
    if _COMPARES.match(definition):
        return "a comparison, not what the subject is"
    return None


# A definition in five words or fewer names a kind and little else ("A bone infection.",
# "A pink-ball match."): blind reads kept 7 of 44.
_THIN = 5


def _lasting(found: Claim) -> tuple[Claim | None, str]:
    """A claim asked in the past tense ("What was PSM?", "What did the rise of RPA lead
    to?") is a story's event, not a fact that lasts: blind reads kept 6 of 41."""
    if re.match(r"^\w+\s+(?:was|were|did)\b", found.question):
        return None, "a past event: a story's detail, not a lasting fact"
    return found, ""


# 'The "prompt tax" refers to ...': a coined term in quotes heads a sentence as a term.
_QUOTED_TERM = re.compile(
    r'^(?P<det>(?:The|A|An)\s+)?["\u201c](?P<term>[\w-]+(?:\s+[\w-]+){0,3})["\u201d](?=\s)'
)


# "S verbs O by/through M" -> "How does S verb O?"; "S is A because R" -> "Why is S A?".
_MEANS = re.compile(
    r"^(?P<s>[^,;:()\"]{3,60}?)\s+(?P<adv>(?:[a-z]+ly\s+)?)(?P<v>[a-z]{3,}(?:s|es|ed))\s+"
    r"(?P<o>[^,;:()]{3,60}?),?\s+(?P<how>by|through|via|using|because(?: of)?|due to|since)\s+"
    r"(?P<m>.{6,})$"
)
_STATE = re.compile(
    r"^(?P<s>[^,;:()\"]{3,60}?)\s+(?P<be>is|are|was|were)\s+(?P<a>(?:[a-z]+ly\s+)?[a-z-]{4,}"
    r"(?:\s+(?:out|down|up|off|away|back))?"
    r"(?:\s+(?:to|for|in|at|with|against)\s+[^,;:()]{3,40}?)?),?\s+"
    r"(?P<how>because(?: of)?|due to|since|as a result of)\s+(?P<m>.{6,})$"
)
_NOT_VERBS = frozenset(
    "news series species process success access class glass press business analysis basis "
    "crisis status bus gas this its is was has does across always perhaps less unless "
    "various famous previous serious obvious".split()
)


_ACTIONS = frozenset(
    "absorb activate adapt affect alter amplify attract balance bind block boost break build "
    "capture carry change compress connect control convert cool create cut damage decrease "
    "deliver detect determine disrupt distribute drive eliminate enable encode enhance ensure "
    "estimate expand extract filter generate handle heat identify improve increase influence "
    "inhibit isolate lower maintain manage measure minimize minimise move optimize optimise "
    "predict prevent process produce protect raise reduce regulate release remove repair "
    "replace represent resist restore retain scale send separate shape signal simplify slow "
    "solve speed stabilize stabilise stimulate store strengthen suppress sustain track "
    "transfer transform transmit trigger weaken achieve avoid calculate compute combine "
    "compare encrypt verify validate sort search render compile execute allocate".split()
)


def _base_form(verb: str) -> str | None:
    """A third-person verb's base form ("reduces" -> "reduce"), or None if unsure."""
    if verb in _NOT_VERBS or verb.endswith(("ss", "us", "is", "ous")):
        return None
    for base in (verb[:-1], verb[:-2], verb[:-3] + "y" if verb.endswith("ies") else ""):
        if base in _ACTIONS and not verb.endswith("ed"):
            return base
    return None


def _past_base(verb: str) -> str | None:
    """A past verb's base form ("reduced" -> "reduce"), when it is a verb notedeck knows."""
    if not verb.endswith("ed"):
        return None
    for base in (verb[:-1], verb[:-2], verb[:-3] + "y" if verb.endswith("ied") else "", verb[:-3]):
        if base in _ACTIONS:
            return base
    return None


# "Solidity, a statically typed language, is used for ...": the apposition defines.
_APPOSITION = re.compile(
    r"^(?P<s>[A-Z][^,;:()]{1,40}),\s+(?P<d>(?:an?|one of the)\s+[^,;:()]{5,90}),\s+"
    r"(?:is|are|was|were|has|have|had|can|will|[a-z]+s|[a-z]+ed)\b"
)


def _how_or_why(text: str, title_words: frozenset[str], case: Callable[[str], str]) -> Claim | None:
    m = _STATE.match(text)
    if m is not None:
        subject = m.group("s")
        if fit_subject(case(subject), title_words) is None and not negated(m.group("a")):
            because = m.group("how").lower()
            answer = "Because " if because.startswith(("because", "since")) else "Due to "
            answer += m.group("m")
            adj = m.group("a")
            if adj.split()[-1].endswith("ly"):
                return None  # "The Earth's heat is partly due to ...": no state to ask why of
            question = f"Why {m.group('be')} {_lead(case(subject))} {adj}?"
            if not has_pronoun(adj):
                return Claim(case(subject), "why", question, answer, 2.6)
    m = _MEANS.match(text)
    if m is None:
        return None
    subject, verb, obj = m.group("s"), m.group("v"), m.group("o")
    past = _past_base(verb)
    base = past or _base_form(verb)
    if base is None or fit_subject(case(subject), title_words) is not None:
        return None
    if plural(subject) and not past:
        return None
    if has_pronoun(obj) or negated(obj) or any(w.lower() in _VERB_WORDS for w in words(obj)):
        return None
    how = m.group("how").lower()
    adv = m.group("adv").strip()
    verb_phrase = f"{adv} {base}".strip()
    does = "did" if past else "does"
    if how in {"by", "through", "via", "using"}:
        question = f"How {does} {_lead(case(subject))} {verb_phrase} {obj}?"
        answer = f"{how.capitalize()} {m.group('m')}"
        return Claim(case(subject), "how", question, answer, 2.8)
    question = f"Why {does} {_lead(case(subject))} {verb_phrase} {obj}?"
    answer = ("Because " if how.startswith(("because", "since")) else "Due to ") + m.group("m")
    if how == "because of":
        answer = "Because of " + m.group("m")
    return Claim(case(subject), "why", question, answer, 2.6)


_Passive = tuple[str, str, float]


def _claim(
    subject: str,
    rest: str,
    m: re.Match[str],
    verb: _Verb | _Passive,
    title_words: frozenset[str],
) -> tuple[Claim | None, str]:
    reason = fit_subject(subject, title_words)
    if reason is not None:
        return None, reason
    if negated(text := m.group()):
        return None, "negated"
    modal = m.groupdict().get("modal")
    many = plural(subject)
    content = [w for w in words(subject) if w.lower() not in {"the", "a", "an", "of"}]
    weight = verb.weight if isinstance(verb, _Verb) else verb[2]
    specific = weight >= 2.8 and content and content[0].lower() not in generic_words()
    if len(content) < 2 and not specific:
        return None, "the subject is too broad for this question (many answers fit)"
    asked = _lead(_articled(subject))  # the subject as a question names it
    if isinstance(verb, _Verb):
        if verb.name == "means" and len(words(subject)) > 3:
            # "What does the urgency of the Ukraine war mean?" asks for a consequence with
            # many answers; "What does alpha mean?" asks for a term's sense (blind reads:
            # 3 kept of 11 long subjects, 4 of 4 short).
            return None, "what a situation means has many answers"
        past = m.group("past") is not None and m.group("s3") is None and m.group("pl") is None
        if not modal and not past and (m.group("s3") is not None) == many:
            # "integrating with version control", "attacking civilian target": a noun read
            # as the verb; the subject and the verb would not agree.
            return None, "the verb does not agree with its subject (a noun read as a verb?)"
        if modal and not modal.startswith("tend"):
            do = modal
        else:
            do = "did" if past and not modal else ("do" if many else "does")
        be = "is" if m.group("s3") is not None else "are"
        question = verb.asks.replace("{do}", do).replace("{be}", be)
        question = question.replace("{S}", asked)
        return Claim(subject, verb.name, question, rest, verb.weight), ""
    participle, asks, weight = verb
    be = m.group("be")
    past = be in {"was", "were"}
    if past and participle in {"used to", "used for"}:
        return None, "what one example was used for (a story's detail, not a use to recall)"
    if modal and participle in {"used to", "used for"}:
        # "What can AI avatars be used for?": blind reads kept 1 in 5; one use of many.
        return None, "what it can be used for has many answers"
    if participle.startswith("used") and re.match(r"(?i)an?\s", subject):
        # "What is a separate LLM used for?": one of many, in an example (0 kept of 5).
        return None, "what one of many is used for (an example's detail)"
    if modal and "{s}" in asks:
        # "X can be triggered by Y" -> "What can trigger X?"
        question = asks.replace("{s}", "").replace("What ", f"What {modal} ", 1)
        question = question.replace("{S}", asked)
        return Claim(subject, participle, question, rest, weight), ""
    if modal:
        question = asks.replace("{be} {S}", f"{modal} {asked} be")
    else:
        be_word = be if be != "be" else ("are" if many else "is")
        question = asks.replace("{be}", be_word).replace("{S}", asked)
    if "{s}" in question:
        # "What causes X?": the verb agrees with "what" (singular); past for was/were.
        question = question.replace("e{s}", "ed" if past else "es").replace(
            "{s}", "ed" if past else "s"
        )
        question = question.replace("What drived", "What drove")
    del text
    return Claim(subject, participle, question, rest, weight), ""


def _articled(subject: str) -> str:
    """ "Bellman equation" -> "the Bellman equation": a named thing the sentence wrote
    without its article (a question needs it)."""
    ws = subject.split()
    named = len(ws) >= 2 and ws[0][:1].isupper() and ws[-1].islower()
    if any(w.endswith(("'s", "\u2019s")) for w in ws) or ws[-1] in _EPONYMS:
        return subject  # "Neil Harvey's record", "Best disease": no article
    bare = ws[0].lower() not in {"the", "a", "an"} and not ws[0].endswith(("'s", "\u2019s"))
    if countable(ws[-1]) is False or plural(subject):
        return subject  # "Shannon information", "Bitcoin mining", "MCP servers": no article
    if ws[-1] not in common_words():
        return subject  # "Echinococcus granulosus": a species' name takes none
    return f"the {subject}" if named and bare else subject


_EPONYMS = frozenset({"disease", "syndrome", "disorder", "palsy"})


def _lead(subject: str) -> str:
    """The subject inside a question: a leading article lowered."""
    first, _, rest = subject.partition(" ")
    if first in {"The", "A", "An"}:
        return f"{first.lower()} {rest}"
    return subject
