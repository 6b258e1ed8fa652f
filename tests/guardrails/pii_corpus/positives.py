"""Texts that hold personal or secret data, each value labelled with its kind, in the places people paste them.

Values come from the generators of tests/guardrails/corpus.py; the sentences around them are support tickets, log
lines, code, CSV rows, e-mails, chat and release notes, and the spellings the first corpus lacked.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from guardrails.pii.detector import PiiKind
from tests.guardrails.corpus import ALNUM, card, digits, email, iban, ip_address, jwt, nino, phone, ssn, token

E, P, C, I, S, N, A, K = (PiiKind.EMAIL, PiiKind.PHONE, PiiKind.PAYMENT_CARD, PiiKind.IBAN, PiiKind.US_SSN,
                          PiiKind.UK_NINO, PiiKind.IP_ADDRESS, PiiKind.SECRET)
Labelled = tuple[str, tuple[tuple[PiiKind, str], ...]]

# Where values turn up: one frame a kind of text, {v} for the value.
FRAMES: dict[PiiKind, list[str]] = {
    E: ["Ticket #4412: customer {v} cannot log in since the update.", "2024-03-15T10:31:02Z INFO login ok user={v}",
        "id,name,email\n1042,J. Doe,{v}", "Hi team,\nplease add {v} to the distribution list.\nThanks",
        "> can you cc {v} on the thread?", "Reported-by: {v}", 'send_invite(to="{v}", role="viewer")',
        "Released 2.4.0 — thanks to {v} for the patch.", "escalate to {v} if no answer by Friday",
        "WARN smtp: bounce for <{v}> (mailbox full)"],
    P: ["Ticket #5531: caller asked to be rung back on {v}.", "customer,phone\nA. Smith,{v}",
        "Hi, it's Priya — my new number is {v}.", "2024-03-15 10:31:02 INFO sms queued to={v}",
        "Emergency contact: {v} (husband)", 'contact = {{"name": "Sam", "phone": "{v}"}}',
        "Please call the site manager on {v} before delivery.", "> my mobile is {v}, text anytime"],
    C: ["Ticket #7730: refund to card {v} failed.", "order_id,pan,amount\n88123,{v},49.99",
        "ERROR payment declined pan={v} reason=insufficient_funds", "Can you charge {v} for the renewal?",
        'charge(card_number="{v}", amount=1200)', "Hi, the company card is {v}, exp 11/27, CVC on the back."],
    I: ["Ticket #3310: please update the supplier's bank account to {v}.", "supplier,iban\nAcme GmbH,{v}",
        "Hello, my salary should go to {v} from next month.", "INFO sepa transfer created iban={v} amount=1200.00",
        'beneficiary = {{"name": "Acme", "iban": "{v}"}}', "> new IBAN is {v}, old one closed"],
    S: ["Ticket #9902: employee SSN {v} is wrong in payroll.", "name,ssn\nDoe Jane,{v}", "SSN: {v}",
        "Hi, the applicant's social security number is {v}.", "INFO w2 generated for ssn={v}",
        'applicant = {{"ssn": "{v}"}}', "> SSN {v} — can you check the W-2?"],
    N: ["Ticket #2287: NI number {v} is missing from the P45.", "employee,ni_number\nJ. Okafor,{v}",
        "Hi, my National Insurance number is {v}.", "INFO payroll record updated nino={v}",
        'employee = {{"nino": "{v}"}}', "> NINO {v} for the new starter"],
    A: ["Ticket #6120: users from {v} get 403 on the portal.", "2024-03-15 10:31:02 WARN failed login from {v}",
        "host,ip\nweb-01,{v}", "Hi, can you whitelist {v} on the firewall?", 'ALLOWED_HOSTS = ["{v}"]',
        "ssh deploy@{v}", "> the VPN gave me {v}, is that right?", "nginx: upstream {v} timed out"],
}


def upper_ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):X}" for _ in range(6)]
    return "2001:DB8:" + ":".join(groups) if rng.random() < 0.5 else "2001:DB8::" + ":".join(groups[:2])


def link_local(rng: random.Random) -> str:
    tail = ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(rng.randint(1, 4)))
    text = f"fe80::{tail}"
    return text.upper() if rng.random() < 0.3 else text


def lower_nino(rng: random.Random) -> str:
    return nino(rng).lower()


def bare_ssn(rng: random.Random) -> str:
    return ssn(rng).replace("-", "").replace(" ", "")


LABELLED_BARE = {  # (frame, generator): numbers with no separators count only after their label
    S: (["SSN: {v}", "SSN {v}", "ssn={v}", '"ssn": "{v}"', "SSN#{v}", "Social Security No. {v}",
         "social security number: {v}", "SSN is {v}", "Applicant SSN - {v}", "ssn,{v}"], bare_ssn),
    N: (["ni: {v}", "NI number {v}", "nino={v}", "my ni no is {v}", '"nino": "{v}"'], lower_nino),
    A: (["IPv6 {v}", "client {v} connected", "from [{v}]:443", "iface eth0 inet6 {v}%eth0", "addr={v}"],
        lambda rng: rng.choice([upper_ipv6, link_local])(rng)),
}


def secret_in_prose(rng: random.Random) -> tuple[str, str]:
    """A generated token after a word saying what it is, with no = or : in between."""
    value = token(rng, rng.choice([24, 32, 40]), rng.choice([ALNUM, ALNUM + "-_", "0123456789abcdef"]))
    frame = rng.choice(["my token is {v}", "the webhook secret {v} leaked in the log", "use token {v} for staging",
                        "Here's the API key {v}, don't share it", "secret was {v} until we rotated it",
                        "access token {v} expires tomorrow", "> the client secret is {v}",
                        "Ticket #8120: the deploy token {v} no longer works", "session token {v}",
                        "refresh token: \n{v}"])
    return frame.format(v=value), value


def provider_key(rng: random.Random) -> tuple[str, str]:
    """Provider keys in code, config and chat."""
    upper = string.ascii_uppercase + string.digits
    choice = rng.randrange(7)
    value = ["sk-" + token(rng, 48), "sk-proj-" + token(rng, 64, ALNUM + "-_"), "AKIA" + token(rng, 16, upper),
             "ghp_" + token(rng, 36), "glpat-" + token(rng, 20, ALNUM + "-_"), "AIza" + token(rng, 35, ALNUM + "-_"),
             jwt(rng)][choice]
    frame = rng.choice(["export API_KEY={v}", 'client = Client(api_key="{v}")', "my key is {v}, can you check it?",
                        "2024-03-15 DEBUG request headers: Authorization: Bearer {v}",
                        "Ticket #1203: rotated key {v} still accepted", "KEY,OWNER\n{v},ci-bot", "key: {v}"])
    return frame.format(v=value), value


PASSWORD_FRAMES = ["password: {v}", 'DB_PASSWORD="{v}"', "the wifi password is {v}", "pwd={v}",
                   "Ticket #4410: reset my password to {v} please", "login: admin / password: {v}",
                   "postgresql://app:{v}@db.internal:5432/app", '{{"user": "svc", "password": "{v}"}}']


def password(rng: random.Random) -> tuple[str, str]:
    words = ["Summer", "Falcon", "Orange", "Tiger", "Winter", "Coffee", "Rocket", "Maple"]
    value = f"{rng.choice(words)}{rng.choice(['!', '#', '-', '_', '.', '$'])}{rng.randint(10, 9999)}"
    return rng.choice(PASSWORD_FRAMES).format(v=value), value


def private_key(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    body = "\n".join(token(rng, 64, ALNUM + "+/") for _ in range(rng.randint(1, 4)))
    value = f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
    return f"deploy key below, please add it:\n{value}\nthanks", value


SECRET_MAKERS: list[Callable[[random.Random], tuple[str, str]]] = [
    secret_in_prose, provider_key, password, private_key]

# Spellings found in real texts that the generators do not make; the misses are among them.
HAND_WRITTEN: list[tuple[str, PiiKind, str]] = [
    ("ni: ab123456c", N, "ab123456c"), ("nino jg 10 37 50 d", N, "jg 10 37 50 d"),
    ("NI No. Ab123456C", N, "Ab123456C"), ("SSN: 078051120", S, "078051120"),
    ('{"ssn":"219099999"}', S, "219099999"), ("Social Security Number 123456789", S, "123456789"),
    ("IPv6 2001:DB8:85A3::8A2E:370:7334", A, "2001:DB8:85A3::8A2E:370:7334"), ("fe80::1%eth0", A, "fe80::1"),
    ("FE80::1FF:FE23:4567:890A%en0", A, "FE80::1FF:FE23:4567:890A"), ("ping6 fe80::a00:27ff:fe4e:66a1", A,
                                                                     "fe80::a00:27ff:fe4e:66a1"),
    ("my token is 4f9c2a7be01d8c3f5a6b9e0d2c4f7a1b", K, "4f9c2a7be01d8c3f5a6b9e0d2c4f7a1b"),
    ("the secret is Zq81kLm02PxT7vBn4cWd9eRf", K, "Zq81kLm02PxT7vBn4cWd9eRf"),
    ("API key: 9f86d081884c7d659a2feaa0c55ad015", K, "9f86d081884c7d659a2feaa0c55ad015"),
    ("aws AKIAIOSFODNN7EXAMPLE", K, "AKIAIOSFODNN7EXAMPLE"),  # AWS's documented id: see the README's decision
    ("server 10.0.0.1:8080 is down", A, "10.0.0.1"), ("Bumped the API key to sk-abcdEFGH1234ijklMNOP5678qrst", K,
                                                      "sk-abcdEFGH1234ijklMNOP5678qrst"),
    ("jdoe@corp.example.com:~/reports is my home", E, "jdoe@corp.example.com"),
    ("upgrade server 10.1.2.3 to 4.2", A, "10.1.2.3"), ("Reply to priya.sharma@example.co.uk re: invoice", E,
                                                        "priya.sharma@example.co.uk"),
    ("Card: 5555 5555 5555 4444 (test? no, real)", C, "5555 5555 5555 4444"),
    ("Gateway at 192.168.0.1, DNS 8.8.8.8", A, "192.168.0.1"), ("Gateway at 192.168.0.1, DNS 8.8.8.8", A, "8.8.8.8"),
]


def positive_samples(rng: random.Random, per_frame: int = 5) -> list[Labelled]:
    """Every frame of every kind a few times, the labelled bare spellings, secrets, and the hand-written ones."""
    makers = {E: email, P: phone, C: card, I: iban, S: ssn, N: nino, A: ip_address}
    samples: list[Labelled] = []
    for kind, frames in FRAMES.items():
        for frame in frames:
            for _ in range(per_frame + (kind in (P, A))):
                value = makers[kind](rng)
                samples.append((frame.format(v=value), ((kind, value),)))
    for kind, (frames, make) in LABELLED_BARE.items():
        for frame in frames:
            for _ in range(3):
                value = make(rng)
                samples.append((frame.format(v=value), ((kind, value),)))
    for _ in range(60):
        for make in SECRET_MAKERS:
            text, value = make(rng)
            samples.append((text, ((K, value),)))
    for _ in range(40):
        e, p, c, a = email(rng), phone(rng), card(rng), ip_address(rng)
        samples.append((f"From: {e}\nSubject: order help\n\nHi, I ordered from {a} and paid with {c}; "
                        f"call me on {p}.", ((E, e), (A, a), (C, c), (P, p))))
    for _ in range(20):
        n, s, i = nino(rng), ssn(rng), iban(rng)
        samples.append((f"id,nino,ssn,iban\n{digits(rng, 4)},{n},{s},{i}", ((N, n), (S, s), (I, i))))
    by_text: dict[str, list[tuple[PiiKind, str]]] = {}
    for text, kind, value in HAND_WRITTEN:
        by_text.setdefault(text, []).append((kind, value))
    samples += [(text, tuple(values)) for text, values in by_text.items()]
    return samples
