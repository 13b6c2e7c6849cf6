"""Seeded generators of realistic networks as inbound events (JSON Lines), for `verbund plan` and benchmarks.

python bench/scenarios.py --list
python bench/scenarios.py plastics --seed 1 -o scenarios/plastics.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verbund_schemas import (
    CapacityChanged,
    CapacityOffered,
    CurriculumPublished,
    Envelope,
    FirmRegistered,
    LearnerRegistered,
    NetworkConfigured,
    encode_event,
    week_at,
    week_index,
)

# ---------------------------------------------------------------- writing events


EVENT_IDS = uuid.UUID("5d3f0b8e-7c1a-4f7e-9a57-2b1f6c0d9e43")
"""Namespace of generated event ids (UUID version 5 of network id and drawn number)."""


class EventLog:
    """Builds a network's events in order, validated by the contracts, with ids and times from the seed."""

    def __init__(self, network_id: str, rng: random.Random, source: str, start: dt.datetime) -> None:
        self.network_id = network_id
        self.rng = rng
        self.source = source
        self.clock = start
        self.events: list[Envelope] = []

    def add(self, cls: type[Envelope], data: dict[str, Any], source: str | None = None) -> None:
        self.clock += dt.timedelta(seconds=self.rng.randint(20, 600))
        # Derived from the network id as well as the seed: two scenarios generated with the same seed draw the
        # same numbers, and their events must still have ids of their own.
        drawn = self.rng.getrandbits(128)
        event = cls.model_validate(
            {
                "id": str(uuid.uuid5(EVENT_IDS, f"{self.network_id}/{drawn:032x}")),
                "source": source or self.source,
                "time": self.clock.isoformat(),
                "subject": self.network_id,
                "data": data,
            }
        )
        self.events.append(event)


def to_jsonl(events: Iterable[Envelope]) -> str:
    return "".join(encode_event(e).decode("utf-8") + "\n" for e in events)


def span(origin: str, first: int, last: int, label: str = "") -> dict[str, Any]:
    return {"first_week": week_at(origin, first), "last_week": week_at(origin, last), "label": label}


FIRST_NAMES = [
    "Lena",
    "Leon",
    "Mia",
    "Noah",
    "Emilia",
    "Paul",
    "Hannah",
    "Ben",
    "Sophie",
    "Finn",
    "Lea",
    "Jonas",
    "Marie",
    "Elias",
    "Anna",
    "Luca",
    "Lina",
    "Felix",
    "Clara",
    "Maximilian",
    "Johanna",
    "Moritz",
    "Laura",
    "Tim",
    "Ida",
    "Julian",
    "Amelie",
    "Niklas",
    "Emma",
    "Jakob",
    "Sarah",
    "David",
    "Leonie",
    "Tom",
    "Zeynep",
    "Mehmet",
    "Aylin",
    "Can",
    "Olga",
    "Dmitri",
    "Fatima",
    "Yusuf",
    "Ewa",
    "Piotr",
    "Chiara",
    "Marco",
    "Ana",
    "Nikola",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Yılmaz",
    "Kaya",
    "Nowak",
    "Kowalski",
    "Rossi",
    "Popović",
    "Demir",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
]


def curriculum(
    curriculum_id: str,
    name: str,
    modules: Iterable[tuple[str, str, int, int]],
    groups: list[dict[str, Any]],
    precedence: Iterable[tuple[str, str]],
) -> dict[str, Any]:
    """CurriculumPublished data from (id, name, weeks, priority) module rows and (module, requires) pairs."""
    return {
        "curriculum_id": curriculum_id,
        "name": name,
        "modules": [{"module_id": m, "name": n, "duration_weeks": d, "priority": p} for m, n, d, p in modules],
        "groups": groups,
        "precedence": [{"module_id": m, "requires": r} for m, r in precedence],
    }


def group(group_id: str, name: str, module_ids: Iterable[str], required: int) -> dict[str, Any]:
    return {"group_id": group_id, "name": name, "module_ids": list(module_ids), "required": required}


def mail_local(text: str) -> str:
    """The part of an email address before the @, in plain ASCII."""
    local = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ı", "i"), ("ć", "c")):
        local = local.replace(a, b)
    return local


def person(rng: random.Random, i: int, domain: str = "example.org") -> tuple[str, dict[str, Any]]:
    """A learner's name and contact; every eighth one prefers English."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    name = f"{first} {last}"
    local = mail_local(f"{first}.{last}.{i}")
    language = "en" if i % 8 == 3 else "de"
    return name, {"name": name, "email": f"{local}@{domain}", "language": language}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[int], list[Envelope]]


# ---------------------------------------------------------------- plastics (Verfahrensmechaniker K&K)

PLASTICS_FIRMS = (
    # firm id, name, street, postcode, city, lat, lon, school region
    ("rkt-aachen", "Rheinland Kunststofftechnik GmbH", "Pascalstraße 12", "52076", "Aachen", 50.77, 6.17, "west"),
    ("dp-koeln", "Domstadt Polymer GmbH & Co. KG", "Mathias-Brüggen-Straße 41", "50829", "Köln", 50.97, 6.87, "west"),
    ("ssg-luedenscheid", "Sauerland Spritzguss GmbH", "Brockhauser Weg 7", "58507", "Lüdenscheid", 51.22, 7.63, "west"),
    ("mfx-wuerzburg", "Mainfranken Extrusion AG", "Ohmstraße 3", "97076", "Würzburg", 49.80, 9.98, "south"),
    ("efb-chemnitz", "Erzgebirge Formenbau GmbH", "Annaberger Straße 240", "09125", "Chemnitz", 50.80, 12.93, "east"),
    ("lkw-bautzen", "Lausitzer Kunststoffwerke GmbH", "Neusalzaer Straße 60", "02625", "Bautzen", 51.18, 14.45, "east"),
)

PLASTICS_MODULES = (
    # id, name, weeks, priority
    ("grundlagen", "Grundausbildung Metall und Kunststoff", 8, 5),
    ("werkstoffpruefung", "Werkstoffprüfung und Materiallabor", 4, 2),
    ("spritzgiessen", "Spritzgießen", 12, 3),
    ("extrusion", "Extrusion", 8, 2),
    ("werkzeugbau", "Werkzeug- und Formenbau", 8, 2),
    ("cnc", "CNC-Zerspanung", 6, 1),
    ("qualitaetssicherung", "Qualitätssicherung", 6, 2),
    ("instandhaltung", "Instandhaltung und Steuerungstechnik", 6, 1),
    ("faserverbund", "Faserverbundtechnik", 6, 0),
    ("thermoformen", "Thermoformen", 6, 0),
    ("blasformen", "Blasformen", 6, 0),
    ("kautschuk", "Kautschukverarbeitung", 6, 0),
)
PLASTICS_ELECTIVES = ("faserverbund", "thermoformen", "blasformen", "kautschuk")

# (offer, firm, module, first week, last week, max seats, min seats)
PLASTICS_OFFERS = (
    ("rkt-grundlagen-27", "rkt-aachen", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("dp-grundlagen-27", "dp-koeln", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("ssg-grundlagen-27", "ssg-luedenscheid", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("mfx-grundlagen-27", "mfx-wuerzburg", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("efb-grundlagen-27", "efb-chemnitz", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("lkw-grundlagen-27", "lkw-bautzen", "grundlagen", "2027-W32", "2028-W12", 4, 0),
    ("dp-labor", "dp-koeln", "werkstoffpruefung", "2027-W40", "2029-W40", 3, 0),
    ("rkt-labor", "rkt-aachen", "werkstoffpruefung", "2027-W40", "2029-W40", 2, 0),
    ("efb-labor", "efb-chemnitz", "werkstoffpruefung", "2027-W40", "2029-W40", 2, 0),
    ("ssg-spritzguss", "ssg-luedenscheid", "spritzgiessen", "2027-W44", "2029-W47", 3, 0),
    ("rkt-spritzguss", "rkt-aachen", "spritzgiessen", "2028-W02", "2029-W47", 2, 0),
    ("efb-spritzguss", "efb-chemnitz", "spritzgiessen", "2027-W44", "2029-W30", 2, 0),
    ("lkw-spritzguss", "lkw-bautzen", "spritzgiessen", "2028-W02", "2029-W47", 2, 0),
    ("mfx-extrusion", "mfx-wuerzburg", "extrusion", "2027-W44", "2029-W47", 3, 0),
    ("dp-extrusion", "dp-koeln", "extrusion", "2028-W02", "2029-W47", 2, 0),
    ("efb-formenbau", "efb-chemnitz", "werkzeugbau", "2028-W02", "2029-W47", 2, 0),
    ("ssg-formenbau", "ssg-luedenscheid", "werkzeugbau", "2028-W02", "2029-W47", 2, 0),
    ("efb-cnc", "efb-chemnitz", "cnc", "2027-W44", "2029-W26", 2, 0),
    ("rkt-cnc", "rkt-aachen", "cnc", "2027-W44", "2029-W26", 2, 0),
    ("mfx-cnc", "mfx-wuerzburg", "cnc", "2028-W02", "2029-W26", 1, 0),
    ("dp-qs", "dp-koeln", "qualitaetssicherung", "2028-W02", "2029-W47", 2, 0),
    ("lkw-qs", "lkw-bautzen", "qualitaetssicherung", "2028-W02", "2029-W47", 2, 0),
    ("mfx-qs", "mfx-wuerzburg", "qualitaetssicherung", "2028-W10", "2029-W47", 1, 0),
    ("lkw-instandhaltung", "lkw-bautzen", "instandhaltung", "2028-W02", "2029-W47", 2, 0),
    ("mfx-instandhaltung", "mfx-wuerzburg", "instandhaltung", "2028-W02", "2029-W47", 2, 0),
    ("rkt-instandhaltung", "rkt-aachen", "instandhaltung", "2028-W10", "2029-W47", 1, 0),
    ("rkt-faserverbund", "rkt-aachen", "faserverbund", "2028-W14", "2029-W47", 2, 0),
    # Thermoforming ends with the line's relocation in December 2028 (one explainable shortfall comes from it).
    ("lkw-thermoformen", "lkw-bautzen", "thermoformen", "2028-W14", "2028-W50", 2, 0),
    ("dp-blasformen", "dp-koeln", "blasformen", "2028-W14", "2029-W47", 2, 0),
    ("ssg-kautschuk", "ssg-luedenscheid", "kautschuk", "2028-W14", "2029-W47", 2, 0),
    # A two-week group course in the materials lab that only runs with at least two apprentices.
    ("dp-labor-kurs", "dp-koeln", "werkstoffpruefung", "2028-W36", "2028-W39", 4, 2),
)

# Berufsschule block teaching by school region; holidays for everyone.
PLASTICS_SCHOOL = {
    "west": (("2027-W45", "2027-W48"), ("2028-W10", "2028-W13"), ("2028-W45", "2028-W48"), ("2029-W10", "2029-W13")),
    "south": (("2027-W47", "2027-W50"), ("2028-W12", "2028-W15"), ("2028-W47", "2028-W50"), ("2029-W12", "2029-W15")),
    "east": (("2027-W43", "2027-W46"), ("2028-W06", "2028-W09"), ("2028-W43", "2028-W46"), ("2029-W06", "2029-W09")),
}
PLASTICS_HOLIDAYS = (("2027-W52", "2028-W01"), ("2028-W52", "2029-W01"), ("2029-W31", "2029-W32"))


def plastics(seed: int) -> list[Envelope]:
    """Verfahrensmechaniker/-in für Kunststoff- und Kautschuktechnik: six firms from Aachen to Bautzen."""
    rng = random.Random(seed)
    log = EventLog(
        "kunststoff-verbund", rng, "koordination.kunststoff-verbund", dt.datetime(2027, 5, 3, 8, 0, tzinfo=dt.UTC)
    )
    log.add(
        NetworkConfigured,
        {
            "name": "Ausbildungsverbund Kunststoff West–Ost",
            "notice_period_weeks": 4,
            "change_penalty": 50,
            "max_modules_per_firm": 4,
            "region": "Nordrhein-Westfalen, Bayern, Sachsen",
            "coordinators": [
                {"name": "Andrea Vogt", "email": "koordination@kunststoff-verbund.example.org", "language": "de"},
                {"name": "Daniel Okafor", "email": "d.okafor@kunststoff-verbund.example.org", "language": "en"},
            ],
        },
    )
    log.add(
        CurriculumPublished,
        curriculum(
            "vmkk-formteile",
            "Verfahrensmechaniker/-in für Kunststoff- und Kautschuktechnik, Formteile",
            PLASTICS_MODULES,
            [
                group(
                    "pflicht", "Pflichtabschnitte", [m for m, *_ in PLASTICS_MODULES if m not in PLASTICS_ELECTIVES], 8
                ),
                group("wahl", "Wahlabschnitt", PLASTICS_ELECTIVES, 1),
            ],
            (
                ("spritzgiessen", "grundlagen"),
                ("extrusion", "grundlagen"),
                ("cnc", "grundlagen"),
                ("instandhaltung", "grundlagen"),
                ("werkzeugbau", "cnc"),
                ("qualitaetssicherung", "werkstoffpruefung"),
                ("faserverbund", "werkstoffpruefung"),
            ),
        ),
    )
    first_names = {
        "west": (
            "Lena",
            "Jonas",
            "Aylin",
            "Tim",
            "Sophie",
            "Luca",
            "Mehmet",
            "Clara",
            "Emily",
            "Niklas",
            "Chiara",
            "Felix",
        ),
        "south": ("Johanna", "Jakob", "Ida", "Marco"),
        "east": ("Paul", "Ewa", "Max", "Lina", "Piotr", "Hannah", "Tom", "Olga"),
    }
    for firm_id, name, street, postcode, city, lat, lon, _region in PLASTICS_FIRMS:
        contact_name = (
            rng.choice(("Sabine", "Thomas", "Katrin", "Michael", "Anja", "Stefan")) + " " + rng.choice(LAST_NAMES)
        )
        log.add(
            FirmRegistered,
            {
                "firm_id": firm_id,
                "name": name,
                "location": {"street": street, "postcode": postcode, "city": city, "latitude": lat, "longitude": lon},
                "training_contact": {"name": contact_name, "email": f"ausbildung@{firm_id}.example.com"},
            },
            source=f"hr.{firm_id}",
        )
    for offer_id, firm_id, module_id, first, last, max_seats, min_seats in PLASTICS_OFFERS:
        log.add(
            CapacityOffered,
            {
                "offer_id": offer_id,
                "firm_id": firm_id,
                "module_id": module_id,
                "first_week": first,
                "last_week": last,
                "max_seats": max_seats,
                "min_seats": min_seats,
            },
            source=f"hr.{firm_id}",
        )
    # Four apprentices per firm, home firm = the firm holding the contract (Stammbetrieb).
    region_of = {f[0]: f[7] for f in PLASTICS_FIRMS}
    far = {"west": {"efb-chemnitz", "lkw-bautzen"}, "east": {"rkt-aachen", "dp-koeln"}, "south": set()}
    number = 0
    used: dict[str, int] = {}
    for firm_id, *_ in PLASTICS_FIRMS:
        region = region_of[firm_id]
        for _ in range(4):
            number += 1
            firsts = first_names[region]
            first = firsts[used.get(region, 0) % len(firsts)]
            used[region] = used.get(region, 0) + 1
            last = rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            local = mail_local(f"{first}.{last}")
            language = "en" if first in ("Emily", "Daniel", "Marco", "Ewa") else "de"
            data: dict[str, Any] = {
                "learner_id": f"azubi-{number:03d}",
                "name": name,
                "contact": {
                    "name": name,
                    "email": f"{local}@example.{'org' if number % 2 else 'com'}",
                    "language": language,
                },
                "curriculum_id": "vmkk-formteile",
                "home_firm_id": firm_id,
                "first_week": "2027-W32",
                "last_week": "2029-W47",
                "unavailable": [
                    {"first_week": a, "last_week": b, "label": "Berufsschule (Blockunterricht)"}
                    for a, b in PLASTICS_SCHOOL[region]
                ]
                + [{"first_week": a, "last_week": b, "label": "Betriebsurlaub"} for a, b in PLASTICS_HOLIDAYS],
                "firm_preferences": {firm_id: 3} | {f: 1 for f, r in region_of.items() if r == region and f != firm_id},
                "module_preferences": {
                    rng.choice(("spritzgiessen", "werkzeugbau", "extrusion")): 2,
                    rng.choice(PLASTICS_ELECTIVES): 3,
                },
                "weights": {"module": 1, "firm": 2, "change": -2, "idle": -1},
                # Under-18s from the far end of the network are not sent across the country (JArbSchG, lodging).
                "excluded_firms": sorted(far[region]) if number % 4 == 1 else [],
            }
            # Both grundlagen courses of the first year run at the home firm.
            data["excluded_firm_modules"] = [
                {"firm_id": f[0], "module_id": "grundlagen"} for f in PLASTICS_FIRMS if f[0] != firm_id
            ]
            if first == "Emily":
                # Re-qualifier joining in 2029 with earlier modules recognised; she asked for thermoforming,
                # whose line closes in December 2028: the planner must say so (no offer in her window).
                data |= {
                    "first_week": "2029-W02",
                    "last_week": "2029-W47",
                    "allowed_modules": ["werkstoffpruefung", "qualitaetssicherung", "thermoformen"],
                    "required_counts": {"pflicht": 2, "wahl": 1},
                    "excluded_firm_modules": [],
                }
            if first == "Paul":
                # Paul is 17: both extrusion lines run in three shifts, which the Jugendarbeitsschutzgesetz
                # rules out for minors; the second explainable shortfall (eligibility).
                data["excluded_firm_modules"] += [
                    {"firm_id": "mfx-wuerzburg", "module_id": "extrusion"},
                    {"firm_id": "dp-koeln", "module_id": "extrusion"},
                ]
            log.add(LearnerRegistered, data, source="koordination.kunststoff-verbund")
    # The Lüdenscheid injection-moulding shop gets a second machine cell in 2028.
    log.add(CapacityChanged, {"offer_id": "ssg-spritzguss", "max_seats": 4}, source="hr.ssg-luedenscheid")
    return log.events


# ---------------------------------------------------------------- nursing (PflAPrV Anlage 7)

# PflAPrV Anlage 7 hours at a 38.5-40 h week, rounded to whole weeks: Orientierungseinsatz 400 h,
# Pflichteinsätze 3 × 400 h + pädiatrische 120 h + psychiatrische 120 h, Vertiefungseinsatz 500 h,
# weitere Einsätze 2 × 80 h.
NURSING_MODULES = (
    ("orientierung", "Orientierungseinsatz", 10, 5),
    ("akut-stationaer", "Pflichteinsatz stationäre Akutpflege", 10, 3),
    ("langzeit-stationaer", "Pflichteinsatz stationäre Langzeitpflege", 10, 3),
    ("ambulant", "Pflichteinsatz ambulante Akut- und Langzeitpflege", 10, 3),
    ("paediatrie", "Pflichteinsatz pädiatrische Versorgung", 3, 3),
    ("psychiatrie", "Pflichteinsatz psychiatrische Versorgung", 3, 3),
    ("vertiefung", "Vertiefungseinsatz", 13, 4),
    ("hospiz", "Weiterer Einsatz: Hospiz und Palliativversorgung", 2, 0),
    ("reha", "Weiterer Einsatz: Rehabilitation", 2, 0),
    ("intensiv", "Weiterer Einsatz: Intensivstation", 2, 0),
    ("notaufnahme", "Weiterer Einsatz: Notaufnahme", 2, 0),
    ("beratung", "Weiterer Einsatz: Pflegeberatung", 2, 0),
)
NURSING_COMPULSORY = ("akut-stationaer", "langzeit-stationaer", "ambulant", "paediatrie", "psychiatrie")
NURSING_FURTHER = ("hospiz", "reha", "intensiv", "notaufnahme", "beratung")

# (firm id, name, postcode, city, is a Träger der praktischen Ausbildung, modules and seats)
NURSING_FIRMS: tuple[tuple[str, str, str, str, bool, dict[str, int]], ...] = (
    (
        "klinikum-mitte",
        "Klinikum Bielefeld Mitte",
        "33604",
        "Bielefeld",
        True,
        {"orientierung": 8, "akut-stationaer": 4, "vertiefung": 6, "intensiv": 2, "notaufnahme": 2},
    ),
    (
        "evkb",
        "Evangelisches Klinikum Bethel",
        "33617",
        "Bielefeld",
        True,
        {"orientierung": 8, "akut-stationaer": 4, "paediatrie": 3, "psychiatrie": 2, "vertiefung": 6, "intensiv": 2},
    ),
    (
        "sz-johannisberg",
        "Seniorenzentrum Am Johannisberg",
        "33615",
        "Bielefeld",
        True,
        {"orientierung": 6, "langzeit-stationaer": 4, "vertiefung": 4, "beratung": 1},
    ),
    (
        "diakonie-sued",
        "Diakoniestation Bielefeld-Süd",
        "33659",
        "Bielefeld",
        True,
        {"orientierung": 6, "ambulant": 3, "vertiefung": 4, "beratung": 1},
    ),
    ("haus-brackwede", "Pflegeheim Haus Brackwede", "33647", "Bielefeld", False, {"langzeit-stationaer": 3}),
    ("awo-guetersloh", "AWO Ambulanter Pflegedienst Gütersloh", "33330", "Gütersloh", False, {"ambulant": 3}),
    ("lwl-guetersloh", "LWL-Klinikum Gütersloh", "33334", "Gütersloh", False, {"psychiatrie": 3}),
    ("kinderklinik-owl", "Kinderzentrum Ostwestfalen", "32049", "Herford", False, {"paediatrie": 2}),
    ("hospiz-bethel", "Hospiz Haus Zuversicht", "33617", "Bielefeld", False, {"hospiz": 2}),
    ("reha-salzuflen", "Reha-Klinik am Kurpark", "32105", "Bad Salzuflen", False, {"reha": 3}),
)


def nursing_school(window_first: int) -> list[tuple[int, int, str]]:
    """Theory blocks of a cohort (week offsets): 6-week blocks every 20 weeks, exams at the end, one holiday."""
    blocks = [(window_first + k * 20, window_first + k * 20 + 5, "Pflegeschule (Theorieblock)") for k in range(8)]
    blocks.append((window_first + 146, window_first + 149, "Urlaub"))
    blocks.append((window_first + 150, window_first + 155, "Examen"))
    return blocks


def nursing(seed: int, learners: int = 36) -> list[Envelope]:
    """Pflegefachfrau/-mann (PflBG, PflAPrV Anlage 7): two cohorts in a hospital-led network around Bielefeld."""
    rng = random.Random(seed)
    origin = "2027-W14"
    log = EventLog("pflege-owl", rng, "pflegeschule-owl", dt.datetime(2027, 1, 11, 9, 0, tzinfo=dt.UTC))
    log.add(
        NetworkConfigured,
        {
            "name": "Ausbildungsverbund Pflege Ostwestfalen-Lippe",
            "notice_period_weeks": 6,
            "change_penalty": 80,
            "region": "Ostwestfalen-Lippe",
            "coordinators": [{"name": "Birgit Lohmann", "email": "praxiskoordination@pflege-owl.example.org"}],
        },
    )
    precedence = [(m, "orientierung") for m in NURSING_COMPULSORY + NURSING_FURTHER]
    precedence += [("vertiefung", m) for m in NURSING_COMPULSORY]
    precedence += [("psychiatrie", "akut-stationaer"), ("psychiatrie", "langzeit-stationaer")]
    log.add(
        CurriculumPublished,
        curriculum(
            "pflegefachperson",
            "Pflegefachfrau / Pflegefachmann (generalistisch)",
            NURSING_MODULES,
            [
                group("orientierung", "Orientierungseinsatz", ["orientierung"], 1),
                group("pflicht", "Pflichteinsätze", NURSING_COMPULSORY, 5),
                group("vertiefung", "Vertiefungseinsatz", ["vertiefung"], 1),
                group("weitere", "Weitere Einsätze", NURSING_FURTHER, 2),
            ],
            precedence,
        ),
    )
    for firm_id, name, postcode, city, _carrier, _seats in NURSING_FIRMS:
        log.add(
            FirmRegistered,
            {
                "firm_id": firm_id,
                "name": name,
                "location": {"postcode": postcode, "city": city},
                "training_contact": {"name": "Praxisanleitung", "email": f"praxisanleitung@{firm_id}.example.com"},
            },
        )
    for firm_id, _name, _pc, _city, _carrier, seats in NURSING_FIRMS:
        for module_id, n in seats.items():
            log.add(
                CapacityOffered,
                {
                    "offer_id": f"{firm_id}-{module_id}",
                    "firm_id": firm_id,
                    "module_id": module_id,
                    "first_week": origin,
                    "last_week": week_at(origin, 181),
                    "max_seats": n,
                },
            )
    # Paediatric group rotation: the children's centre only runs its skills course with two students.
    for k, start in enumerate((46, 66)):
        log.add(
            CapacityOffered,
            {
                "offer_id": f"kinderklinik-owl-kurs-{k + 1}",
                "firm_id": "kinderklinik-owl",
                "module_id": "paediatrie",
                "first_week": week_at(origin, start),
                "last_week": week_at(origin, start + 2),
                "max_seats": 4,
                "min_seats": 2,
            },
        )
    carriers = [f for f in NURSING_FIRMS if f[4]]
    for i in range(learners):
        cohort_start = 0 if i < learners // 2 else 26  # April and October intake
        home = carriers[i % len(carriers)][0]
        name, contact = person(rng, i)
        others = [f[0] for f in carriers if f[0] != home]
        log.add(
            LearnerRegistered,
            {
                "learner_id": f"pflege-{i + 1:03d}",
                "name": name,
                "contact": contact,
                "curriculum_id": "pflegefachperson",
                "home_firm_id": home,
                "first_week": week_at(origin, cohort_start),
                "last_week": week_at(origin, cohort_start + 155),
                "unavailable": [span(origin, a, b, label) for a, b, label in nursing_school(cohort_start)],
                # Orientierungs- and Vertiefungseinsatz take place at the Träger der praktischen Ausbildung.
                "excluded_firm_modules": [
                    {"firm_id": f, "module_id": m} for f in others for m in ("orientierung", "vertiefung")
                ],
                "module_preferences": {rng.choice(NURSING_FURTHER): 3, rng.choice(NURSING_FURTHER): 1},
                "firm_preferences": {home: 2},
                "weights": {"module": 1, "firm": 1, "change": 0, "idle": 0},
            },
        )
    return log.events


# ---------------------------------------------------------------- IT (Fachinformatiker/-in)

IT_MODULES = (
    ("it-support", "IT-Support und Arbeitsplatzsysteme", 8, 4),
    ("netzwerke", "Netzwerke und Kommunikationstechnik", 10, 2),
    ("anwendungsentwicklung", "Anwendungsentwicklung", 12, 2),
    ("datenbanken", "Datenbanken", 8, 1),
    ("it-sicherheit", "IT-Sicherheit", 8, 2),
    ("systemadministration", "Systemadministration", 8, 1),
    ("cloud", "Cloud-Plattformen", 6, 0),
    ("datenanalyse", "Datenanalyse", 6, 0),
    ("webentwicklung", "Webentwicklung", 6, 0),
    ("embedded", "Eingebettete Systeme", 6, 0),
    ("erp", "ERP-Systeme", 6, 0),
)
IT_ELECTIVES = ("cloud", "datenanalyse", "webentwicklung", "embedded", "erp")
IT_FIRMS = (
    (
        "saxonia-systems",
        "Saxonia Systems Leipzig GmbH",
        "04109",
        "Leipzig",
        {"it-support": 3, "anwendungsentwicklung": 3, "datenbanken": 2, "webentwicklung": 2},
    ),
    (
        "elbnet",
        "ElbNet Kommunikation GmbH",
        "01067",
        "Dresden",
        {"it-support": 3, "netzwerke": 3, "it-sicherheit": 2, "embedded": 2},
    ),
    (
        "saale-data",
        "Saale Data Services GmbH",
        "06108",
        "Halle (Saale)",
        {"datenbanken": 2, "datenanalyse": 2, "systemadministration": 2, "cloud": 2},
    ),
    (
        "magdeburg-it",
        "Stadtwerke Magdeburg IT",
        "39104",
        "Magdeburg",
        {"it-support": 2, "netzwerke": 2, "systemadministration": 2, "it-sicherheit": 2, "erp": 2},
    ),
    (
        "thueringen-soft",
        "Thüringer Softwarehaus AG",
        "99084",
        "Erfurt",
        {"anwendungsentwicklung": 3, "webentwicklung": 2, "cloud": 2, "erp": 1},
    ),
)


def it(seed: int, learners: int = 30) -> list[Envelope]:
    """Fachinformatiker/-in: five firms in central Germany, two electives each, Berufsschule in blocks."""
    rng = random.Random(seed)
    origin = "2027-W35"
    log = EventLog("it-mitteldeutschland", rng, "it-verbund", dt.datetime(2027, 6, 1, 9, 0, tzinfo=dt.UTC))
    log.add(
        NetworkConfigured,
        {
            "name": "IT-Ausbildungsverbund Mitteldeutschland",
            "notice_period_weeks": 4,
            "max_modules_per_firm": 3,
            "coordinators": [{"name": "Kerstin Wendt", "email": "verbund@it-mitteldeutschland.example.org"}],
        },
    )
    log.add(
        CurriculumPublished,
        curriculum(
            "fachinformatik",
            "Fachinformatiker/-in",
            IT_MODULES,
            [
                group("pflicht", "Pflichtbausteine", [m for m, *_ in IT_MODULES if m not in IT_ELECTIVES], 6),
                group("wahl", "Wahlbausteine", IT_ELECTIVES, 2),
            ],
            (
                ("netzwerke", "it-support"),
                ("it-sicherheit", "netzwerke"),
                ("datenbanken", "anwendungsentwicklung"),
                ("datenanalyse", "datenbanken"),
                ("cloud", "systemadministration"),
                ("webentwicklung", "anwendungsentwicklung"),
            ),
        ),
    )
    for firm_id, name, postcode, city, _ in IT_FIRMS:
        log.add(FirmRegistered, {"firm_id": firm_id, "name": name, "location": {"postcode": postcode, "city": city}})
    for firm_id, _n, _p, _c, seats in IT_FIRMS:
        for module_id, n in seats.items():
            log.add(
                CapacityOffered,
                {
                    "offer_id": f"{firm_id}-{module_id}",
                    "firm_id": firm_id,
                    "module_id": module_id,
                    "first_week": origin,
                    "last_week": week_at(origin, 155),
                    "max_seats": n,
                },
            )
    school = [(k * 17 + 12, k * 17 + 15) for k in range(8)]
    for i in range(learners):
        name, contact = person(rng, i, "example.com")
        home = IT_FIRMS[i % len(IT_FIRMS)][0]
        log.add(
            LearnerRegistered,
            {
                "learner_id": f"fi-{i + 1:03d}",
                "name": name,
                "contact": contact,
                "curriculum_id": "fachinformatik",
                "home_firm_id": home,
                "first_week": origin,
                "last_week": week_at(origin, 155),
                "unavailable": [span(origin, a, b, "Berufsschule") for a, b in school],
                "module_preferences": {m: rng.randint(1, 3) for m in rng.sample(IT_ELECTIVES, 2)},
                "firm_preferences": {home: 2},
                "weights": {"module": 2, "firm": 1, "change": -1, "idle": -1},
            },
        )
    return log.events


# ---------------------------------------------------------------- synthetic sizes


@dataclass(frozen=True)
class Size:
    learners: int
    modules: int
    firms: int
    weeks: int


SIZES = {
    "tiny": Size(8, 6, 3, 16),
    "s40": Size(40, 12, 3, 24),
    "s80": Size(80, 16, 4, 48),
    "s160": Size(160, 20, 5, 72),
    "s320": Size(320, 24, 5, 96),
    "s1000": Size(1000, 24, 40, 104),
    "s10000": Size(10_000, 24, 1000, 156),
}


def synthetic(size: Size, seed: int) -> list[Envelope]:
    """A generic network: compulsory modules and electives, precedence chains, school blocks, course offers
    with min seats, exclusions and preferences; capacity about 1.4× the demand so most of it can be planned."""
    rng = random.Random(seed)
    origin = "2027-W01"
    network_id = f"synthetic-{size.learners}"
    log = EventLog(network_id, rng, "bench", dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))
    log.add(
        NetworkConfigured,
        {
            "name": f"Synthetic network ({size.learners} learners)",
            "notice_period_weeks": 2,
            "coordinators": [{"name": "Coordination office", "email": "office@example.org"}],
        },
    )
    n = size.modules
    compulsory = max(2, round(n * 0.5))
    electives = n - compulsory
    chosen_electives = max(1, electives // 3)
    # School blocks take ~1/8 of the window; modules fill ~60 % of what is left.
    blocks = [(s, s + 1) for s in range(size.weeks // 8, size.weeks - 2, max(8, size.weeks // 6))]
    free = size.weeks - 2 * len(blocks)
    mean = max(1.0, 0.6 * free / (compulsory + chosen_electives))
    edges = [-1] + [w for b in blocks for w in b] + [size.weeks]
    longest_gap = max(edges[k + 1] - edges[k] - 1 for k in range(0, len(edges), 2))
    durations = [max(1, min(longest_gap, round(rng.uniform(0.6, 1.4) * mean))) for _ in range(n)]
    module_ids = [f"m{k + 1:02d}" for k in range(n)]
    precedence = [(module_ids[k + 1], module_ids[k]) for k in range(0, min(compulsory - 1, 6), 2)]
    log.add(
        CurriculumPublished,
        curriculum(
            "generic",
            "Generic curriculum",
            [(m, f"Module {m}", d, rng.randint(0, 3)) for m, d in zip(module_ids, durations, strict=True)],
            [
                group("core", "Compulsory", module_ids[:compulsory], compulsory),
                group("elective", "Electives", module_ids[compulsory:], chosen_electives),
            ],
            precedence,
        ),
    )
    firm_ids = [f"f{k + 1:04d}" for k in range(size.firms)]
    for f in firm_ids:
        log.add(FirmRegistered, {"firm_id": f, "name": f"Firm {f}", "location": {"city": rng.choice(CITIES)}})
    # Each module is offered by a few firms; capacity follows demand (electives split their learners).
    per_module_firms = min(size.firms, max(2, round(size.firms * 3 / n)))
    horizon = size.weeks
    for k, m in enumerate(module_ids):
        takers = size.learners if k < compulsory else size.learners * chosen_electives / electives
        seats_total = max(1, round(1.4 * takers * durations[k] / (free * 0.85)))
        offering = rng.sample(firm_ids, k=min(per_module_firms, len(firm_ids)))
        share, rest = divmod(seats_total, len(offering))
        for j, f in enumerate(offering):
            seats = share + (1 if j < rest else 0)
            if seats == 0:
                continue
            log.add(
                CapacityOffered,
                {
                    "offer_id": f"o-{m}-{f}",
                    "firm_id": f,
                    "module_id": m,
                    "first_week": origin,
                    "last_week": week_at(origin, horizon - 1),
                    "max_seats": seats,
                },
            )
    # Courses that only run with a group: exactly one module length, min 2 seats.
    for c in range(max(1, size.learners // 80)):
        m = rng.choice(module_ids[:compulsory])
        d = durations[module_ids.index(m)]
        # Only where the first cohort is out of school, so a group can actually be formed.
        starts = [w for w in range(horizon - d + 1) if not any(a <= w + d - 1 and w <= b for a, b in blocks)]
        start = rng.choice(starts)
        f = rng.choice(firm_ids)
        log.add(
            CapacityOffered,
            {
                "offer_id": f"course-{c + 1}-{m}",
                "firm_id": f,
                "module_id": m,
                "first_week": week_at(origin, start),
                "last_week": week_at(origin, start + d - 1),
                "max_seats": 6,
                "min_seats": 2,
            },
        )
    cohorts = 1 if size.weeks < 48 else 3
    for i in range(size.learners):
        shift = (i % cohorts) * 2
        learner_blocks = [(a + shift, b + shift) for a, b in blocks if b + shift < horizon]
        name, contact = person(rng, i)
        excluded = rng.sample(firm_ids, k=1) if size.firms > 3 and rng.random() < 0.2 else []
        log.add(
            LearnerRegistered,
            {
                "learner_id": f"l{i + 1:05d}",
                "name": name,
                "contact": contact,
                "curriculum_id": "generic",
                "first_week": origin,
                "last_week": week_at(origin, horizon - 1),
                "unavailable": [span(origin, a, b, "school") for a, b in learner_blocks],
                "excluded_firms": excluded,
                "module_preferences": {m: rng.randint(1, 5) for m in rng.sample(module_ids[compulsory:], 2)},
                "firm_preferences": {f: rng.randint(1, 3) for f in rng.sample(firm_ids, min(2, len(firm_ids)))},
                "weights": {"module": 1, "firm": 1, "change": -1, "idle": -1},
            },
        )
    return log.events


# ---------------------------------------------------------------- demanding weekly minimums, known feasible


@dataclass(frozen=True)
class TightSpec:
    learners: int
    modules: int
    firms: int
    weeks: int


# Nine shapes across the range of the networks coordinators run (40–320 learners, 12 or 24 modules in two
# groups, 3–5 firms, 12–96 weeks), three seeds each: 27 instances.
TIGHT_SHAPES = (
    TightSpec(40, 12, 3, 12),
    TightSpec(40, 24, 3, 24),
    TightSpec(80, 12, 4, 24),
    TightSpec(80, 24, 4, 48),
    TightSpec(120, 12, 4, 36),
    TightSpec(160, 24, 5, 72),
    TightSpec(200, 12, 5, 48),
    TightSpec(320, 12, 5, 96),
    TightSpec(320, 24, 5, 96),
)
TIGHT_SEEDS = (1, 2, 3)
TIGHT = {
    f"tight-{s.learners}-{s.modules}-{s.firms}-{s.weeks}-{seed}": (s, seed)
    for s in TIGHT_SHAPES
    for seed in TIGHT_SEEDS
}


def _weighted_choice(rng: random.Random, table: Sequence[tuple[int, float]]) -> int:
    roll = rng.random()
    for value, p in table:
        if roll < p:
            return value
        roll -= p
    return table[-1][0]


def tight(spec: TightSpec, seed: int) -> tuple[list[Envelope], list[tuple[str, str, str, int]]]:
    """A network with week-by-week max_seats and demanding min_seats, and the reference plan it was built from.

    The generator plans every learner first (modules, firms, starts that respect windows, school weeks,
    precedence and the per-firm limit), then derives each firm x module's weekly seats from that plan: maxima
    at most two above what the plan uses, minima at most two below it and often equal. So a plan meeting every
    hard rule exists (the reference), but leaves little room. The reference (learner, module, firm, start week
    index) is returned for tests and never published.
    """
    rng = random.Random(f"tight/{spec.learners}/{spec.modules}/{spec.firms}/{spec.weeks}/{seed}")
    origin = "2027-W01"
    network_id = f"tight-{spec.learners}-{spec.modules}-{spec.firms}-{spec.weeks}-{seed}"
    weeks = spec.weeks
    n_core = spec.modules // 3
    n_elective = spec.modules - n_core
    k_elective = max(2, n_elective // 4)
    required = n_core + k_elective
    module_ids = [f"m{k + 1:02d}" for k in range(spec.modules)]
    core, electives = module_ids[:n_core], module_ids[n_core:]
    # Modules fill about 55 % of the horizon; school blocks of one or two weeks per cohort come at least a module
    # length plus two weeks apart (a module never straddles one in the reference).
    duration = max(1, int(0.55 * weeks / required))
    cohorts = 3
    blocks_of: list[list[int]] = []
    for c in range(cohorts):
        blocked: list[int] = []
        w = 3 + 2 * c + rng.randint(0, 2)
        while w < weeks - 1:
            blocked.extend(range(w, min(weeks, w + rng.randint(1, 2))))
            w += rng.randint(max(8, duration + 3), max(12, duration + 7))
        blocks_of.append(blocked)
    precedence = [(core[k + 1], core[k]) for k in range(0, len(core) - 1, 2)]
    precedence.append((electives[1], core[0]))
    requires = dict(precedence)
    firm_ids = [f"f{k + 1}" for k in range(spec.firms)]
    offered_by = {m: sorted(rng.sample(firm_ids, rng.randint(2, min(3, spec.firms)))) for m in module_ids}
    priority = {m: rng.randint(0, 3) for m in module_ids}

    reference: list[tuple[str, str, str, int]] = []
    learners: list[dict[str, Any]] = []
    per_firm_max = 1
    for i in range(spec.learners):
        sid = f"l{i + 1:04d}"
        blocked = set(blocks_of[i % cohorts]) | {rng.randrange(weeks) for _ in range(rng.randint(0, 2))}
        k_mine = k_elective - (1 if rng.random() < 0.1 else 0)
        need = n_core + k_mine
        slack_weeks = weeks - len(blocked) - need * duration
        first = rng.randint(0, max(0, min(weeks // 8, slack_weeks // 3)))
        last = weeks - 1 - rng.randint(0, max(0, min(weeks // 8, slack_weeks // 3 - first)))
        available = [w for w in range(first, last + 1) if w not in blocked]
        plan: list[tuple[str, int]] | None = None
        for attempt in range(60):
            if attempt == 40:
                # This learner's own school weeks and a shorter window leave too little room: the whole horizon.
                blocked = set(blocks_of[i % cohorts])
                first, last = 0, weeks - 1
                available = [w for w in range(first, last + 1) if w not in blocked]
            chosen = core + rng.sample(electives, k_mine)
            chosen = [m for m in chosen if m not in requires or requires[m] in chosen]
            if len(chosen) < need:
                continue
            order = _respecting(rng, chosen, requires)
            plan = _place(rng, order, duration, set(available), first, last, gaps=attempt < 30)
            if plan is not None:
                break
        if plan is None:
            raise RuntimeError(f"{network_id}: could not build a reference rotation for {sid}")
        counts: dict[str, int] = {}
        placed: list[tuple[str, str, int]] = []
        for m, start in plan:
            options = offered_by[m]
            if rng.random() < 0.7:
                firm = min(options, key=lambda f: (counts.get(f, 0), rng.random()))
            else:
                firm = rng.choice(options)
            counts[firm] = counts.get(firm, 0) + 1
            placed.append((m, firm, start))
            reference.append((sid, m, firm, start))
        per_firm_max = max(per_firm_max, max(counts.values()))
        used_pairs = {(f, m) for m, f, _ in placed}
        exclusions = []
        if rng.random() < 0.3:
            pairs = [(f, m) for m in module_ids for f in offered_by[m] if (f, m) not in used_pairs]
            exclusions = [{"firm_id": f, "module_id": m} for f, m in rng.sample(pairs, min(len(pairs), 2))]
        allowed = None
        if rng.random() < 0.15:
            unused = [m for m in electives if m not in {m for m, _, _ in placed}]
            allowed = [m for m in module_ids if m != rng.choice(unused)] if unused else None
        spans: list[dict[str, Any]] = []
        for w in sorted(blocked):
            if first <= w <= last:
                if spans and week_index(spans[-1]["last_week"], origin) == w - 1:
                    spans[-1]["last_week"] = week_at(origin, w)
                else:
                    spans.append(span(origin, w, w, "school"))
        name, contact = person(rng, i)
        data: dict[str, Any] = {
            "learner_id": sid,
            "name": name,
            "contact": contact,
            "curriculum_id": "tight",
            "first_week": week_at(origin, first),
            "last_week": week_at(origin, last),
            "unavailable": spans,
            "excluded_firm_modules": exclusions,
            "module_preferences": {m: rng.randint(1, 5) for m in rng.sample(module_ids, 3)},
            "firm_preferences": {f: rng.randint(1, 3) for f in rng.sample(firm_ids, min(2, spec.firms))},
            "weights": {
                "module": rng.randint(1, 3),
                "firm": rng.randint(1, 3),
                "change": -rng.randint(0, 3),
                "idle": -rng.randint(0, 1),
            },
        }
        if k_mine != k_elective:
            data["required_counts"] = {"wahl": k_mine}
        if allowed is not None:
            data["allowed_modules"] = allowed
        learners.append(data)

    log = EventLog(network_id, rng, "bench", dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))
    log.add(
        NetworkConfigured,
        {
            "name": f"Tight network {network_id}",
            "notice_period_weeks": 0,
            "max_modules_per_firm": per_firm_max,
            "coordinators": [{"name": "Coordination office", "email": "office@example.org"}],
        },
    )
    log.add(
        CurriculumPublished,
        curriculum(
            "tight",
            "Curriculum with demanding workshops",
            [(m, f"Module {m}", duration, priority[m]) for m in module_ids],
            [group("pflicht", "Compulsory", core, n_core), group("wahl", "Electives", electives, k_elective)],
            precedence,
        ),
    )
    for f in firm_ids:
        log.add(FirmRegistered, {"firm_id": f, "name": f"Firm {f}", "location": {"city": rng.choice(CITIES)}})
    used: dict[tuple[str, str], dict[int, int]] = {}
    for _, m, f, start in reference:
        cell = used.setdefault((f, m), {})
        for w in range(start, start + duration):
            cell[w] = cell.get(w, 0) + 1
    for (f, m), cell in sorted(used.items()):
        lo = max(0, min(cell) - rng.randint(0, 2))
        hi = min(weeks - 1, max(cell) + rng.randint(0, 2))
        seats: list[tuple[int, int] | None] = []
        for w in range(lo, hi + 1):
            occ = cell.get(w, 0)
            top = occ + _weighted_choice(rng, ((0, 0.45), (1, 0.4), (2, 0.15)))
            if occ >= 2:
                low = max(0, occ - _weighted_choice(rng, ((0, 0.35), (1, 0.45), (2, 0.2))))
            else:
                low = occ if rng.random() < 0.3 else 0
            seats.append((top, low) if top > 0 else None)
        run_start = lo
        for w in range(lo, hi + 2):
            k = w - lo
            if w <= hi and k > 0 and seats[k] == seats[k - 1]:
                continue
            if w > lo and seats[k - 1] is not None:
                top, low = seats[k - 1]  # type: ignore[misc]
                data_offer: dict[str, Any] = {
                    "offer_id": f"o-{f}-{m}-{run_start}",
                    "firm_id": f,
                    "module_id": m,
                    "first_week": week_at(origin, run_start),
                    "last_week": week_at(origin, w - 1),
                    "max_seats": top,
                }
                if low:
                    data_offer["min_seats"] = low
                log.add(CapacityOffered, data_offer)
            run_start = w
    for data in learners:
        log.add(LearnerRegistered, data)
    return log.events, reference


def _respecting(rng: random.Random, modules: Sequence[str], requires: dict[str, str]) -> list[str]:
    """The modules in a random order in which every module comes after the one it requires."""
    left = list(modules)
    rng.shuffle(left)
    order: list[str] = []
    while left:
        ready = [m for m in left if requires.get(m) not in left]
        m = ready[0]
        order.append(m)
        left.remove(m)
    return order


def _place(
    rng: random.Random, order: Sequence[str], duration: int, available: set[int], first: int, last: int, gaps: bool
) -> list[tuple[str, int]] | None:
    """Starts for the modules in order, each after the previous, on available weeks; None when they don't fit."""
    fits = [s for s in range(first, last - duration + 2) if all(w in available for w in range(s, s + duration))]
    spare = len(available) - duration * len(order)
    placed: list[tuple[str, int]] = []
    cursor = first
    for k, m in enumerate(order):
        gap = rng.randint(0, max(0, spare // max(1, len(order) - k) // 2)) if gaps else 0
        start = next((s for s in fits if s >= cursor + gap), None)
        if start is None:
            return None
        spare -= start - cursor
        placed.append((m, start))
        cursor = start + duration
    return placed


CITIES = (
    "Aachen",
    "Bielefeld",
    "Chemnitz",
    "Dortmund",
    "Erfurt",
    "Freiburg",
    "Görlitz",
    "Hamburg",
    "Kassel",
    "Leipzig",
    "Mainz",
    "Nürnberg",
    "Rostock",
    "Stuttgart",
    "Ulm",
    "Würzburg",
)


SCENARIOS: dict[str, Scenario] = (
    {
        "plastics": Scenario("plastics", "Verfahrensmechaniker K&K, 24 apprentices, 6 firms Aachen–Bautzen", plastics),
        "nursing": Scenario("nursing", "Pflegefachfrau/-mann after PflAPrV Anlage 7, 36 students, 10 sites", nursing),
        "it": Scenario("it", "Fachinformatiker/-in, 30 apprentices, 5 firms in central Germany", it),
    }
    | {
        name: Scenario(
            name,
            f"synthetic: {s.learners} learners, {s.modules} modules, {s.firms} firms, {s.weeks} weeks",
            lambda seed, s=s: synthetic(s, seed),  # type: ignore[misc]
        )
        for name, s in SIZES.items()
    }
    | {
        name: Scenario(
            name,
            f"demanding weekly minimums, known feasible: {s.learners} learners, {s.modules} modules, {s.firms} firms,"
            f" {s.weeks} weeks (seed {seed})",
            lambda _seed, s=s, seed=seed: tight(s, seed)[0],  # type: ignore[misc]
        )
        for name, (s, seed) in TIGHT.items()
    }
)


def parse_size(name: str) -> Size | None:
    """A synthetic size written LEARNERSxMODULESxFIRMSxWEEKS, e.g. 500x24x20x104."""
    parts = name.split("x")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    learners, modules, firms, weeks = (int(p) for p in parts)
    if learners < 1 or modules < 4 or firms < 2 or weeks < 8:
        raise KeyError(f"size {name!r} is too small: at least 1 learner, 4 modules, 2 firms and 8 weeks")
    return Size(learners, modules, firms, weeks)


def generate(name: str, seed: int = 1) -> list[Envelope]:
    """Events of a named scenario, or of a synthetic size LEARNERSxMODULESxFIRMSxWEEKS."""
    size = parse_size(name)
    if size is not None:
        return synthetic(size, seed)
    if name not in SCENARIOS:
        raise KeyError(
            f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}, or a size such as 500x24x20x104"
        )
    return SCENARIOS[name].build(seed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a scenario's inbound events as JSON Lines.")
    parser.add_argument("name", nargs="?", help="scenario name (see --list) or LEARNERSxMODULESxFIRMSxWEEKS")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--list", action="store_true", help="list the named scenarios")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for s in SCENARIOS.values():
            print(f"{s.name:10} {s.description}")
        return 0
    try:
        events = generate(args.name, args.seed)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    text = to_jsonl(events)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"{len(events)} events of scenario {args.name} (seed {args.seed}) written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
