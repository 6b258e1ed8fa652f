"""Texts with nothing personal or secret in them, most shaped like something that is: the hard part of the set.

Decisions written down here (and in the README): `git@github.com:org/repo.git` is a repository address (a
service account on a host), not a person's e-mail; documented placeholders (a key of X's, `your-key-here`,
`<token>`) are not secrets; AWS's documented example id AKIAIOSFODNN7EXAMPLE is kept as a finding (in positives).
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from functools import partial

from guardrails.pii.payment import luhn_ok
from tests.guardrails.corpus import LOOK_ALIKES, PROSE, card_number, digits, group_card, token

HEX = "0123456789abcdef"


def _not_luhn(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def _imei(rng: random.Random) -> str:
    """A handset id: Luhn-valid like a card, but with a type allocation code no card issuer uses."""
    partial_number = rng.choice(["35", "86", "01"]) + digits(rng, 12)
    return next(partial_number + c for c in string.digits if luhn_ok(partial_number + c))


def _small_version(rng: random.Random) -> str:
    """A four-part version whose parts are all valid octets: the IPv4 look-alike of the issue."""
    return ".".join(str(n) for n in (rng.randint(1, 30), rng.randint(0, 20), rng.randint(0, 40), rng.randint(0, 255)))


VERSION_FRAMES = [
    "Installed version {v} on all agents.", "Bumped foo from {v} to {w}.", 'AssemblyVersion("{v}")',
    "<version>{v}</version>", "## [{v}] - 2024-05-01\n### Fixed\n- crash on start", "mylib-{v}.tar.gz",
    "pip install mylib=={v}", "Firmware {v} is out: update your routers.", "Release notes for {v}",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/{v} Safari/537.36",
    "2024-03-15 INFO agent started (build {v})", '"version": "{v}",', "Upgraded the driver to {v} yesterday.",
    "Fixed in {v}; please update.", "product_version={v}", "Ticket #5120: app crashes after update to {v}",
    "name,version\nmylib,{v}", "> are you on {v} or older?", "FileVersion {v}", "setuptools {v}-1 (Debian)",
    "Updated dependencies: requests {v}, urllib3 {w}.", "{v}-beta.2 is tagged", "since {v}, the flag is gone",
]

EMAIL_LOOK_ALIKES = [
    "icon@2x.png", "<img src=\"logo@3x.webp\">", "background: url(img/hero@2x.jpg) no-repeat;",
    "sprite@1.5x.png", "Add avatar@2x.PNG and avatar@3x.PNG to the bundle.", "npm i -D @babel/core @types/node",
    "import { x } from '@scope/pkg/dist/index.js';", "git clone git@github.com:org/repo.git",
    "remote: git@gitlab.example.com:team/app.git", "npm i lodash@4.17.21", "docker pull nginx@sha256:" + "a1" * 32,
    "@app.route('/health')", "result = a @ b.T", "Ping @jane_doe in #support", "see you @ 10am", "user@localhost",
    "email: <your e-mail here>", "pip install 'pkg @ git+https://github.com/org/pkg.git'", "@here please review",
    "icon-name@2x.svg", "report_final@v2.pdf", "ssh -T git@github.com", "cp build/app@1.0.zip /tmp",
]

SECRET_LOOK_ALIKES = [
    "AKIAXXXXXXXXXXXXXXXX", "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX", "export AWS_ACCESS_KEY_ID=AKIA0000000000000000",
    "ghp_" + "x" * 36, "GITHUB_TOKEN=ghp_" + "X" * 36, "sk-...your-key-here", "OPENAI_API_KEY=sk-your-key-here",
    "api_key = \"sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", "OPENAI_API_KEY=sk-proj-XXXXXXXXXXXXXXXXXXXXXXXX",
    "SLACK_TOKEN=xoxb-your-bot-token-here", "token: <TOKEN>", "Authorization: Bearer <your-token>",
    "Authorization: Bearer $TOKEN", "Authorization: Bearer ${ACCESS_TOKEN}", "api_key=YOUR_API_KEY",
    "api_key: your-api-key-here", "client_secret=REPLACE_ME", "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: ********", "password=<password>", "secret_key = 'change-me-in-production'",
    "SECRET_KEY=insert-your-secret-key-here", "token=0000000000000000000000000000", "api_key: xxxx-xxxx-xxxx-xxxx",
    "max_tokens=4096", "tokens used: 15320", "token_type=bearer", "csrf token mismatch, please reload",
    "The password reset link was sent.", "We keep the secret santa list in the wiki.", "token count 1,532",
    "refresh_token_ttl=86400", "password_min_length=12", "secret_name=prod/db/password",
    "access token expires in 3600 seconds", "Rotate the API key every 90 days.", "the token endpoint is /oauth/token",
    "GITHUB_TOKEN: ${{ github.token }}", "api_key=os.environ.get('API_KEY')", "token = request.headers['X-Token']",
    "Use a personal access token (classic) with repo scope.", "Bearer tokens must be sent over HTTPS.",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "ssh-keygen -t ed25519 -C 'laptop'", "secret: !vault |", "password: '{{ vault_db_password }}'",
]

NETWORK_LOOK_ALIKES = [
    "build 10.0.19045.3803", "Windows 10.0.22631.3296", "MAC 00:1A:2B:3C:4D:5E", "mac 00-1a-2b-3c-4d-5e",
    "Cisco MAC 001a.2b3c.4d5e", "OID 1.3.6.1.4.1.311.21.8", "std::map<int, int>", "a[::2]", "dead::beef",
    "10:30:45.123", "Time 12:34:56:789", "ratio 16:9:4", "http://127.0.0.1:8000/health", "::1 is loopback",
    "version 1.2.3.4", "v1.2.3.4", "see section 4.2.1.3", "the 0.9.1.2 pre-release", "Chrome/120.0.0.0",
    "IPv6 addresses look like xxxx:xxxx::xxxx", "sha1:" + "0a" * 20, "0.0.0.0 binds every interface",
]


def _generated(rng: random.Random) -> list[Callable[[], str]]:
    """Look-alikes with generated numbers: ids, dates, hashes, cards failing Luhn, numbers in code and logs."""
    d = partial(digits, rng)
    year = partial(rng.randint, 2019, 2026)
    day, month, hour, minute = (partial(rng.randint, 1, 28), partial(rng.randint, 1, 12), partial(rng.randint, 0, 23),
                                partial(rng.randint, 0, 59))
    version = partial(_small_version, rng)
    return [
        lambda: rng.choice(VERSION_FRAMES).format(v=version(), w=version()),
        lambda: rng.choice(VERSION_FRAMES).format(v=version(), w=version()),
        lambda: f"Ticket INC-{d(7)} opened by the service desk", lambda: f"Case {d(3)}-{d(3)}-{d(4)} escalated",
        lambda: f"Incident {d(3)}-{d(3)}-{d(4)} resolved", lambda: f"booking ref {d(3)} {d(3)} {d(4)}",
        lambda: f"Order ORD-{year()}-{d(6)} has shipped.", lambda: f"order_id,amount\n{d(9)},{d(2)}.{d(2)}",
        lambda: f"Confirmation number {d(10)}", lambda: f"{year()}-{month():02d}-{day():02d} {hour():02d}:{minute():02d}"
                                                        f":{minute():02d},{d(3)} INFO request done in {d(3)} ms",
        lambda: f"ts={rng.randint(1_600_000_000_000, 1_800_000_000_000)} level=info msg=ok",
        lambda: f"request_id={uuid.UUID(int=rng.getrandbits(128), version=4)} status=200",
        lambda: f"sha256={token(rng, 64, HEX)}", lambda: f"commit {token(rng, 40, HEX)} (HEAD -> main)",
        lambda: f'ETag: "{token(rng, 32, HEX)}"', lambda: f"md5sum {token(rng, 32, HEX)}  backup.tar",
        lambda: f"docker image sha256:{token(rng, 12, HEX)} built", lambda: f"fixed in {token(rng, 7, HEX)}",
        lambda: "Card test: " + group_card(_not_luhn(card_number(rng, rng.choice(["4", "51", "37"]), 16)),
                                           rng.choice([" ", "-"])),
        lambda: f"Tracking 1Z{token(rng, 6, string.ascii_uppercase + string.digits)}{d(10)}",
        lambda: f"ISBN 978-{rng.randint(0, 1)}-{d(3)}-{d(5)}-{rng.randint(0, 9)}",
        lambda: f"color: #{token(rng, 6, HEX)}; border: 1px solid #{token(rng, 3, HEX)};",
        lambda: f"rgba({rng.randint(0, 255)}, {rng.randint(0, 255)}, {rng.randint(0, 255)}, 0.{rng.randint(1, 9)})",
        lambda: f"lat,lon\n{rng.randint(-80, 80)}.{d(6)},{rng.randint(-170, 170)}.{d(6)}",
        lambda: f"Location {rng.randint(1, 80)}.{d(4)}° N, {rng.randint(1, 170)}.{d(4)}° W",
        lambda: f"MAC {':'.join(token(rng, 2, HEX.upper()) for _ in range(6))}",
        lambda: f"due {day():02d}/{month():02d}/{year()}", lambda: f"{year()}{month():02d}{day():02d}-{d(6)}.log",
        lambda: f"Total: ${rng.randint(1, 9)},{d(3)}.{d(2)}", lambda: f"Population {rng.randint(1, 9)} {d(3)} {d(3)}",
        lambda: f"Part no. {d(3)}-{d(2)}-{d(4)}", lambda: f"SKU {d(3)}-{d(2)}-{d(4)}-B",
        lambda: f"Invoice {year()}/{d(5)} attached", lambda: f"PO {d(10)} approved",
        lambda: f"port {rng.randint(1024, 65535)} open; pid {d(5)}", lambda: f"line {d(4)}, column {d(2)}",
        lambda: f"Build #{d(5)} passed in {d(3)}s", lambda: f"{year()}-{month():02d}-{day():02d}T{hour():02d}:"
                                                          f"{minute():02d}:00+01:00",
        lambda: f"IMEI {_imei(rng)}",
        lambda: f"reference {rng.choice('ABCEGH')}{rng.choice('ABCE')}{d(6)}E",
        lambda: f"postcode {rng.choice(['SW1A 1AA', 'EC1A 1BB', 'M1 1AE', 'B33 8TH'])}",
        lambda: f"vehicle reg {rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}"
                f"{rng.randint(10, 99)} {token(rng, 3, string.ascii_uppercase)}",
        lambda: f"account DE00 {d(4)} {d(4)} {d(4)} {d(4)} {d(2)} (invalid)",
        lambda: f"x = np.array([{d(3)}, {d(3)}, {d(3)}, {d(4)}])", lambda: f"matrix {d(3)} {d(3)} {d(4)} {d(3)}",
        lambda: f"uptime {rng.randint(1, 300)} days, {hour()}:{minute():02d}",
        lambda: f"session_id={token(rng, 8, HEX)}-{token(rng, 4, HEX)}", lambda: f"trace_id={token(rng, 32, HEX)}",
        lambda: f"chmod 0{rng.choice([644, 755, 600])} {rng.choice(['run.sh', 'key.pem'])}",
        lambda: f"phone extension {rng.randint(100, 9999)}", lambda: f"room {rng.randint(1, 9)}.{rng.randint(10, 99)}",
        lambda: f"API rate limit {d(4)} tokens/min", lambda: f"the token {rng.choice(['expired', 'is invalid'])} at "
                                                            f"{hour():02d}:{minute():02d}",
    ]


def negative_samples(rng: random.Random, generated: int = 700) -> list[str]:
    """Generated look-alikes, the hand-written ones above, and the first corpus's look-alikes and prose."""
    makers = _generated(rng)
    texts = [rng.choice(makers)() for _ in range(generated)]
    return texts + EMAIL_LOOK_ALIKES + SECRET_LOOK_ALIKES + NETWORK_LOOK_ALIKES + LOOK_ALIKES + PROSE
