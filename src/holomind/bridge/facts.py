"""Invented facts no model can know, for showing and measuring that the loop learns.

Used by ``holomind chat --demo`` (the first three) and ``bench/learning_loop.py``
(all of them). Each entry is (taught question, taught answer, a paraphrase to ask,
a word every right answer contains, lower case).
"""

from __future__ import annotations

INVENTED_FACTS: list[tuple[str, str, str, str]] = [
    (
        "What is the capital of Zorbania?",
        "The capital of Zorbania is Quelltown.",
        "Which city is Zorbania's capital?",
        "quelltown",
    ),
    (
        "Who invented the flumph engine?",
        "The flumph engine was invented by Marta Okonkwo-Reyes in 1931.",
        "Who was the inventor of the flumph engine?",
        "okonkwo",
    ),
    (
        "What is the password of the Tindle vault?",
        "The Tindle vault password is OBSIDIAN-4471.",
        "Tell me the Tindle vault's password.",
        "obsidian",
    ),
    (
        "What colour are Velisian moths?",
        "Velisian moths are bright teal.",
        "Tell me the colour of a Velisian moth.",
        "teal",
    ),
    (
        "What is the name of Dr. Pellwright's cat?",
        "Dr. Pellwright's cat is called Brindlesnoot.",
        "What did Dr. Pellwright name her cat?",
        "brindlesnoot",
    ),
    (
        "How many moons does the planet Xerulon have?",
        "The planet Xerulon has 41 moons.",
        "Xerulon has how many moons?",
        "41",
    ),
    (
        "What is the national dish of Ostravia?",
        "The national dish of Ostravia is krubbelpie.",
        "Which dish is Ostravia's national dish?",
        "krubbelpie",
    ),
    (
        "Which river runs through the town of Hamblevex?",
        "The river Wendlemoor runs through Hamblevex.",
        "Name the river that flows through Hamblevex.",
        "wendlemoor",
    ),
    (
        "What does the Quorvian word 'splet' mean?",
        "In Quorvian, 'splet' means umbrella.",
        "In the Quorvian language, what is the meaning of 'splet'?",
        "umbrella",
    ),
    (
        "Who is the lead singer of the band Glass Otters?",
        "The lead singer of Glass Otters is Tobias Fenwarren.",
        "Who sings lead vocals for Glass Otters?",
        "fenwarren",
    ),
    (
        "What fuel do Marrowind rockets burn?",
        "Marrowind rockets burn liquid zephyrine.",
        "Which fuel is burned by Marrowind rockets?",
        "zephyrine",
    ),
    (
        "In what year was the city of Caldrith founded?",
        "Caldrith was founded in 1687.",
        "When was Caldrith founded?",
        "1687",
    ),
    (
        "What is the tallest mountain on the island of Pemberloo?",
        "The tallest mountain on Pemberloo is Mount Grisholt.",
        "Which mountain is the highest on Pemberloo?",
        "grisholt",
    ),
    (
        "What instrument does Professor Anwick play?",
        "Professor Anwick plays the bassoon.",
        "Which musical instrument is played by Professor Anwick?",
        "bassoon",
    ),
    (
        "What is the currency of Dravelland?",
        "The currency of Dravelland is the klunet.",
        "Which currency do people use in Dravelland?",
        "klunet",
    ),
    (
        "What is the favourite food of the Yarrowby dragons?",
        "Yarrowby dragons love roasted turnips most of all.",
        "What do Yarrowby dragons like to eat best?",
        "turnip",
    ),
    (
        "Who founded the Orlanth Institute?",
        "The Orlanth Institute was founded by Greta Valsingham.",
        "Who was the founder of the Orlanth Institute?",
        "valsingham",
    ),
    (
        "What is the main export of Tessaly Minor?",
        "Tessaly Minor mainly exports cobalt glass.",
        "Tessaly Minor's main export is what?",
        "cobalt",
    ),
    (
        "What shape are the windows of the Hollin tower?",
        "The windows of the Hollin tower are hexagonal.",
        "Describe the shape of the Hollin tower's windows.",
        "hexagon",
    ),
    (
        "Which street is the Marblecup bakery on?",
        "The Marblecup bakery is on Fennick Street.",
        "On which street can you find the Marblecup bakery?",
        "fennick",
    ),
]
