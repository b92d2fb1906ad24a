"""Deterministic English prose for the *long* benchmark workload.

`passages(count=400, words=230, seed=5)` returns `count` passages of exactly `words`
whitespace-separated words each, one passage per line, made by a small phrase grammar
from the built-in word lists below. Nothing is downloaded and only `random.Random(seed)`
is used (its `random()`/`choice()` sequence is stable across CPython 3 releases), so every
machine benchmarks the same text; the driver prints the SHA-256 of the file to prove it.

The vocabulary mixes short common words with long, rarer ones ("archaeologists",
"infrastructure") so WordPiece splits some words into several pieces, as it does on real
prose: 230 words come to roughly 280-300 word pieces, so the peers and ours all truncate
at 256 and the workload measures full 256-token sequences.

Run directly to print the passages: python3 prose.py [COUNT] [WORDS] [SEED]
"""
import random
import sys

NAMES = ["Margaret", "Tobias", "Eleanor", "Rashid", "Ingrid", "Mateo", "Priya", "Dmitri",
         "Beatrice", "Kwame", "Harriet", "Lorenzo", "Annika", "Oluwaseun", "Theodore", "Yuki"]
PLACES = ["Lisbon", "the harbour town", "Edinburgh", "the northern valley", "Kraków", "the old quarter",
          "Valparaíso", "the river delta", "Montréal", "the mountain pass", "Nagasaki", "the coastal plain"]
ADJECTIVES = ["quiet", "ancient", "remarkable", "narrow", "uncertain", "municipal", "weathered", "generous",
              "unexpected", "meticulous", "crowded", "distant", "fragile", "industrial", "luminous",
              "contemporary", "provincial", "stubborn", "symmetrical", "overgrown", "temporary",
              "ceremonial", "inexpensive", "reluctant", "agricultural", "bewildering", "cautious"]
NOUNS = ["library", "committee", "bridge", "manuscript", "orchard", "laboratory", "festival", "lighthouse",
         "archive", "railway", "cathedral", "experiment", "garden", "harbour", "observatory", "market",
         "infrastructure", "vineyard", "newspaper", "hospital", "expedition", "workshop", "monastery",
         "settlement", "telescope", "negotiation", "orchestra", "warehouse", "chronicle", "apprentice"]
PEOPLE = ["the archaeologists", "the engineers", "the villagers", "the historians", "the committee members",
          "the students", "the fishermen", "the cartographers", "the volunteers", "the physicians",
          "the musicians", "the journalists", "the architects", "the merchants", "the botanists"]
VERBS_PAST = ["examined", "restored", "described", "abandoned", "measured", "celebrated", "questioned",
              "photographed", "rebuilt", "documented", "inherited", "reorganised", "discovered",
              "catalogued", "defended", "translated", "surveyed", "financed", "dismantled", "admired"]
VERBS_INTRANSITIVE = ["hesitated", "disagreed", "persevered", "gathered", "returned", "improvised",
                      "waited", "prospered", "argued", "wandered", "recovered", "multiplied"]
ADVERBS = ["carefully", "eventually", "reluctantly", "surprisingly", "gradually", "immediately",
           "patiently", "occasionally", "deliberately", "nevertheless", "unfortunately", "quietly"]
PREPOSITIONS = ["near", "behind", "across", "beyond", "beneath", "inside", "along", "opposite", "around"]
TIMES = ["in the spring of 1887", "during the long winter", "after the flood", "before the war",
         "in the following decade", "at the end of the century", "every autumn", "for several weeks",
         "in 1953", "throughout the nineteenth century", "on a grey morning in March"]
CONNECTIVES = ["and", "but", "because", "although", "while", "so", "until", "whereas"]
OPENERS = ["In the end,", "For a while,", "According to the records,", "As a result,", "Meanwhile,",
           "Years later,", "To everyone's surprise,", "In other words,", "At first,", "Even so,"]


class _Grammar:
    def __init__(self, rng):
        self.r = rng

    def pick(self, words):
        return self.r.choice(words)

    def noun_phrase(self):
        roll = self.r.random()
        if roll < 0.35:
            return f"the {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        if roll < 0.55:
            return f"the {self.pick(NOUNS)} {self.pick(PREPOSITIONS)} {self.pick(PLACES)}"
        if roll < 0.75:
            adjective = self.pick(ADJECTIVES)
            article = "an" if adjective[0] in "aeiou" else "a"
            return f"{article} {adjective} {self.pick(NOUNS)}"
        return f"the {self.pick(NOUNS)}"

    def subject(self):
        roll = self.r.random()
        if roll < 0.3:
            return self.pick(NAMES)
        if roll < 0.6:
            return self.pick(PEOPLE)
        return self.noun_phrase()

    def clause(self):
        if self.r.random() < 0.7:
            core = f"{self.subject()} {self.pick(VERBS_PAST)} {self.noun_phrase()}"
        else:
            core = f"{self.subject()} {self.pick(VERBS_INTRANSITIVE)}"
        if self.r.random() < 0.4:
            core += f" {self.pick(TIMES)}"
        elif self.r.random() < 0.3:
            core += f" {self.pick(ADVERBS)}"
        return core

    def sentence(self):
        roll = self.r.random()
        if roll < 0.25:
            text = f"{self.pick(OPENERS)} {self.clause()}"
        elif roll < 0.55:
            text = f"{self.clause()}, {self.pick(CONNECTIVES)} {self.clause()}"
        elif roll < 0.65:
            text = f"{self.clause()} ({self.pick(ADVERBS)}, {self.pick(TIMES)})"
        elif roll < 0.72:
            quoted = self.clause()
            text = f"\"{quoted[0].upper() + quoted[1:]}\", said {self.pick(NAMES)}"
        else:
            text = self.clause()
        text = text[0].upper() + text[1:]
        return text + ("?" if self.r.random() < 0.05 else ".")


def passage(grammar, words):
    """Exactly `words` words: whole sentences, the last one cut short and closed with a full stop."""
    out = []
    while len(out) < words:
        out.extend(grammar.sentence().split())
    out = out[:words]
    if out[-1][-1] not in ".?":
        out[-1] = out[-1].rstrip(",;:\"()") + "."
    return " ".join(out)


def passages(count=400, words=230, seed=5):
    grammar = _Grammar(random.Random(seed))
    return [passage(grammar, words) for _ in range(count)]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    for line in passages(*args):
        print(line)
