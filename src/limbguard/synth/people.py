"""Seeded synthetic people: names, birth dates, contact details. Nothing real.

Pure and deterministic: the same seed and index give the same person, so the demo,
tests and benchmarks can make any number of patients without storing fixtures.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

GIVEN_FEMALE = (
    "Maria",
    "Linda",
    "Patricia",
    "Barbara",
    "Rosa",
    "Elizabeth",
    "Jennifer",
    "Carmen",
    "Susan",
    "Margaret",
    "Dorothy",
    "Guadalupe",
    "Nancy",
    "Karen",
    "Betty",
    "Helen",
    "Sandra",
    "Donna",
    "Ana",
    "Ruth",
    "Sharon",
    "Michelle",
    "Laura",
    "Yolanda",
    "Mei",
    "Aiko",
    "Priya",
    "Fatima",
    "Josefina",
    "Irene",
)
GIVEN_MALE = (
    "James",
    "Robert",
    "John",
    "Michael",
    "José",
    "William",
    "David",
    "Richard",
    "Juan",
    "Thomas",
    "Charles",
    "Daniel",
    "Jesús",
    "Joseph",
    "Donald",
    "Kenneth",
    "Luis",
    "Steven",
    "Edward",
    "Ronald",
    "Anthony",
    "Carlos",
    "Wei",
    "Hiroshi",
    "Raj",
    "Omar",
    "Manuel",
    "Francisco",
    "George",
    "Paul",
)
FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "García",
    "Miller",
    "Davis",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Pérez",
    "Thompson",
    "White",
    "Harris",
    "Sánchez",
    "Clark",
    "Ramírez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kim",
    "Chen",
    "Patel",
    "Núñez",
    "Okafor",
    "Tanaka",
    "Cohen",
    "Singh",
    "Reyes",
    "Morales",
)
STREETS = ("Main St", "Oak Ave", "Palm Dr", "Mission Blvd", "Vista Way", "Ocean View Rd", "Pine St")


@dataclass(frozen=True)
class Person:
    mrn: str
    given_name: str
    family_name: str
    sex: str  # FHIR administrative gender: "female" | "male"
    birth_date: dt.date
    phone: str
    address_line: str


def person(seed: int, index: int, *, today: dt.date) -> Person:
    """The `index`-th synthetic person of a seeded population, aged 40–94 on `today`.

    Phone numbers use the 555-01xx range reserved for fiction.
    """
    rng = random.Random(f"{seed}:{index}")
    sex = rng.choice(("female", "male"))
    given = rng.choice(GIVEN_FEMALE if sex == "female" else GIVEN_MALE)
    age_days = rng.randint(40 * 365, 94 * 365)
    return Person(
        mrn=f"LG{seed % 100:02d}{index:07d}",
        given_name=given,
        family_name=rng.choice(FAMILY),
        sex=sex,
        birth_date=today - dt.timedelta(days=age_days),
        phone=f"(619) 555-01{rng.randint(0, 99):02d}",
        address_line=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
    )
