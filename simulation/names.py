"""Word pools for the simulated force: names (with the variants people really use), places, text.

Everything here is invented. Name variants are the ones barred-list matching must survive:
nicknames (Jim/James), spelling (Smyth/Smith), order, hyphenation and initials.
"""

from __future__ import annotations

# first name -> the short forms and spellings the same person may be recorded under
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "James": ("Jim", "Jimmy", "Jamie"),
    "Jonathan": ("Jon", "Jonny"),
    "William": ("Will", "Bill", "Billy"),
    "Robert": ("Rob", "Bob", "Bobby"),
    "Richard": ("Rich", "Dick", "Rick"),
    "Michael": ("Mike", "Mick"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Stephen": ("Steve", "Steven"),
    "Andrew": ("Andy", "Drew"),
    "Joseph": ("Joe",),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex",),
    "Nicholas": ("Nick",),
    "Patrick": ("Pat", "Paddy"),
    "Ravi": (),
    "Mohammed": ("Muhammad", "Mohammad"),
    "Arjun": (),
    "Tariq": (),
    "Kwame": (),
    "Tomasz": ("Tomek",),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Katie", "Catherine", "Kathryn"),
    "Margaret": ("Maggie", "Peggy"),
    "Jennifer": ("Jen", "Jenny"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammy"),
    "Alexandra": ("Alex", "Lexi"),
    "Deborah": ("Debbie", "Deb"),
    "Susan": ("Sue", "Suzy"),
    "Amelia": ("Millie",),
    "Charlotte": ("Charlie", "Lottie"),
    "Eleanor": ("Ellie", "Nell"),
    "Jessica": ("Jess",),
    "Olivia": ("Liv",),
    "Hannah": (),
    "Priya": (),
    "Aisha": ("Ayesha",),
    "Fatima": (),
    "Grace": (),
    "Chloe": (),
    "Zofia": ("Zosia",),
    "Siobhan": (),
    "Megan": ("Meg",),
}

# surname -> spellings a clerk or another system may use
SURNAMES: dict[str, tuple[str, ...]] = {
    "Smith": ("Smyth", "Smithe"),
    "Jones": (),
    "Williams": ("Wiliams",),  # Williamson is another surname, not a spelling
    "Taylor": ("Tayler",),
    "Brown": ("Browne",),
    "Davies": ("Davis", "Davyes"),
    "Evans": (),
    "Thomas": (),
    "Johnson": ("Jonson",),
    "Roberts": ("Robertes",),
    "Walker": (),
    "Wright": ("Right",),
    "Thompson": ("Thomson", "Tompson"),
    "Hughes": ("Hews",),
    "Edwards": (),
    "Green": ("Greene",),
    "Hall": (),
    "Wood": ("Woods",),
    "Harris": ("Harriss",),
    "Lewis": ("Louis",),
    "Martin": ("Martyn",),
    "Jackson": (),
    "Clarke": ("Clark",),
    "Turner": (),
    "Hill": (),
    "Cooper": (),
    "Ward": (),
    "Morris": ("Maurice",),
    "Moore": ("More",),
    "King": (),
    "Baker": (),
    "Patel": ("Patell",),
    "Khan": ("Kahn",),
    "Ahmed": ("Ahmad",),
    "Hussain": ("Hussein", "Husain"),
    "Singh": (),
    "Kowalski": ("Kowalsky",),
    "Nowak": (),
    "O'Brien": ("OBrien", "O Brien"),
    "McDonald": ("MacDonald",),
    "Mensah": (),
    "Okafor": (),
    "Price": (),
    "Pritchard": (),
    "Bennett": ("Bennet",),
    "Griffiths": ("Griffith",),
    "Lloyd": ("Loyd",),
    "Morgan": (),
    "Powell": (),
    "Reynolds": (),
}

TOWNS = (
    "Worcester", "Hereford", "Kidderminster", "Redditch", "Shrewsbury",
    "Telford", "Malvern", "Evesham", "Bromsgrove", "Ludlow",
)  # fmt: skip

STREETS = (
    "Mill Lane", "Church Road", "High Street", "Station Road", "Park Avenue", "Victoria Road",
    "Green Lane", "Manor Road", "Kings Road", "Queens Road", "New Street", "School Lane",
    "The Crescent", "Orchard Close", "Meadow Way", "Chestnut Drive", "Oak Avenue",
    "Willow Court", "Bridge Street", "Castle Street", "London Road", "Worcester Road",
    "Bath Road", "Albert Street", "Springfield Road", "Brook Lane", "Elm Grove", "Hill View",
    "Riverside", "Canal Walk", "Foregate Street", "Sidbury", "Bath Street", "Cherry Tree Walk",
    "Hawthorn Rise", "Linden Avenue", "Moor Street", "Northwick Road", "Ombersley Road",
    "Tything", "Lowesmoor", "Barbourne Road", "St Johns", "Bransford Road", "Malvern Road",
)  # fmt: skip

GROUNDS = ("drugs", "stolen_property", "offensive_weapon", "going_equipped", "criminal_damage")

ORDINARY_TEXTS = (
    "On my way back to {station} now",
    "Can you cover the {hour}:00 briefing?",
    "Statement uploaded for {ref}",
    "Thanks, will update the log",
    "Custody is full, heading to {station} instead",
    "Running 10 minutes late for handover",
    "Victim updated, next contact agreed for Thursday",
    "Anyone free to pick up a concern for welfare near {station}?",
    "File ready for CPS, please review when you can",
    "Reminder: PSU training moved to Friday",
    "Vehicle 23 is back in service",
    "Scene log handed to the night shift",
    "CCTV request sent for {ref}",
    "Can someone check the property store keys?",
    "Leave request submitted for next month",
    "Good result on {ref} today, well done all",
    "Street briefing at 14:00 in the parade room",
    "Interview booked for tomorrow 10:00",
    "Please chase the forensic results for {ref}",
    "Happy birthday! Cake in the kitchen",
)

# Discriminatory messages the conduct detectors must catch: disguised spellings included.
# Kept few and clinical: they exist so the detector can be measured, nothing else.
DISCRIMINATORY_TEXTS = (
    ("race", "another p@ki driving round {station} again, send them all back"),
    ("race", "typical n1gger behaviour from that lot on the estate"),
    ("misogyny", "she only got promoted because she's a s l a g, everyone knows"),
    ("homophobia", "don't put me on with him, he's a f@ggot"),
    ("disability", "the new sergeant is a total r3tard, honestly"),
    ("race", "those g*ppos at the site by {station} want moving on"),
    ("misogyny", "women shouldn't be on response, stupid wh0re couldn't even cuff him"),
)

# A report quoting a slur: what was said to a victim, filed as evidence. Not the author's words.
QUOTED_STATEMENT_TEXTS = (
    'Statement for {ref} filed: the suspect shouted "you f***ing p@ki" at the victim '
    "twice; words recorded verbatim for the hate crime file",
    'MG11 uploaded for {ref}. Witness states the male called her a "wh0re" and a "sl*g" '
    "before the assault; quoted as said for the evidential record",
)

VIP_GROUPS = ("mp", "footballer", "broadcaster", "musician", "councillor", "judge")
VULNERABLE_GROUPS = ("domestic_abuse", "sexual_offence", "modern_slavery", "stalking")
OCG_GROUPS = (
    "OCG-RIVERSIDE", "OCG-NORTHGATE", "OCG-BLACKTHORN", "OCG-SEVERN", "OCG-REDHILL",
    "OCG-MARSHES",
)  # fmt: skip
