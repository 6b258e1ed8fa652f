"""Hand-written texts, written before scoring them: realistic spellings and look-alikes the generators do not make."""

from __future__ import annotations

from sandbox.pii.detector import PiiKind

E, P, C, I, S, N, A, K = (PiiKind.EMAIL, PiiKind.PHONE, PiiKind.PAYMENT_CARD, PiiKind.IBAN, PiiKind.US_SSN,
                          PiiKind.UK_NINO, PiiKind.IP_ADDRESS, PiiKind.SECRET)

POSITIVES: list[tuple[str, PiiKind, str]] = [
    ("Hi,\n\nI'm locked out. My login is m.okafor@example.org and I tried the reset twice.\n\nMary", E,
     "m.okafor@example.org"),
    ("git log --format='%an <%ae>' shows Sven Berg <sven.berg@example.de>", E, "sven.berg@example.de"),
    ("2024-03-15 12:00:01 ERROR mailer: 550 5.1.1 <noah.tanaka@sub.example.io>: user unknown", E,
     "noah.tanaka@sub.example.io"),
    ("| Name | E-mail |\n|---|---|\n| Li Wang | li.wang@example.com |", E, "li.wang@example.com"),
    ("Signed-off-by: Fatima Haddad <fatima.haddad@example-company.fr>", E, "fatima.haddad@example-company.fr"),
    ("user_email=\"oskar+test@example.com\"", E, "oskar+test@example.com"),
    ("please write to ADMIN@EXAMPLE.COM.", E, "ADMIN@EXAMPLE.COM"),
    ("Mobile: +44 7700 900461 / Office: 020 7946 0321", P, "+44 7700 900461"),
    ("Mobile: +44 7700 900461 / Office: 020 7946 0321", P, "020 7946 0321"),
    ("Tel +49 89 1234567 (Zentrale)", P, "+49 89 1234567"), ("Tél. : 01 42 68 53 00", P, "01 42 68 53 00"),
    ("customer called from (415) 555-2671 twice", P, "(415) 555-2671"),
    ("WhatsApp +34 612 345 678", P, "+34 612 345 678"), ("phone_number,+15555550123", P, "+15555550123"),
    ("if you need me: 0161 496 0734", P, "0161 496 0734"), ("Ring 07911 123456 after six", P, "07911 123456"),
    ("The card on file is 4012 8888 8888 1881.", C, "4012 8888 8888 1881"),
    ("payment failed for 5105105105105100", C, "5105105105105100"),
    ("amex: 3714 496353 98431", C, "3714 496353 98431"),
    ("card=6011-0009-9013-9424&cvv=123", C, "6011-0009-9013-9424"),
    ("IBAN: FR14 2004 1010 0505 0001 3M02 606", I, "FR14 2004 1010 0505 0001 3M02 606"),
    ("Bank: NL91ABNA0417164300 (ABN AMRO)", I, "NL91ABNA0417164300"),
    ("wire to GB33BUKB20201555555555 ref INV-2024-0042", I, "GB33BUKB20201555555555"),
    ("ch93 0076 2011 6238 5295 7", I, "ch93 0076 2011 6238 5295 7"),
    ("SSN 536-90-4399 (verified)", S, "536-90-4399"), ("ss# 536 90 4399", S, "536 90 4399"),
    ("employee ssn: 536904399", S, "536904399"), ("Taxpayer SSN=078-05-1120", S, "078-05-1120"),
    ("NI: QQ 12 34 56 A? no — it is JK 12 34 56 B", N, "JK 12 34 56 B"),
    ("National Insurance number: ce 12 34 56 d", N, "ce 12 34 56 d"), ("nino,AA123456A", N, "AA123456A"),
    ("client_ip=198.51.100.23 status=401", A, "198.51.100.23"), ("X-Forwarded-For: 203.0.113.195, 70.41.3.18", A,
                                                                 "203.0.113.195"),
    ("X-Forwarded-For: 203.0.113.195, 70.41.3.18", A, "70.41.3.18"),
    ("inet 172.16.4.21/20 brd 172.16.15.255 scope global eth0", A, "172.16.4.21"),
    ("Could not connect to 10.20.30.40 on port 5432", A, "10.20.30.40"),
    ("inet6 2A00:1450:4001:82B::200E prefixlen 64", A, "2A00:1450:4001:82B::200E"),
    ("my laptop is fe80::3c4a:92ff:fe1b:7d2e%wlan0", A, "fe80::3c4a:92ff:fe1b:7d2e"),
    ("they pinged from 1.2.3.4 last night", A, "1.2.3.4"),
    ("Authorization: token 6f1a9c2e4b7d8f0a3c5e7b9d1f2a4c6e8b0d2f4a", K, "6f1a9c2e4b7d8f0a3c5e7b9d1f2a4c6e8b0d2f4a"),
    ("The Stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc got pushed", K, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", K, "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ("mysql -u root -pS3cure!Pass42 prod", K, "S3cure!Pass42"),
    ("secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY9'", K, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY9"),
    ("export NPM_TOKEN=npm_a8Bc9De0Fg1Hi2Jk3Lm4No5Pq6Rs7Tu8Vw9Xy", K, "npm_a8Bc9De0Fg1Hi2Jk3Lm4No5Pq6Rs7Tu8Vw9Xy"),
    ("new password is Kx7#mQ2!", K, "Kx7#mQ2!"),
    ("the API key for staging: 3c6e0b8a9c15224a8228b9a98ca1531d", K, "3c6e0b8a9c15224a8228b9a98ca1531d"),
]

NEGATIVES: list[str] = [
    # versions and numbers that parse as IPv4
    "Upgrade the agent to 3.4.0.12 before Friday.", "Bumped version to 1.0.0.1", "msbuild /p:Version=2.3.1.0",
    "FROM mcr.microsoft.com/dotnet/sdk:8.0.100.1", "<PackageReference Include=\"Foo\" Version=\"4.2.1.0\" />",
    "Driver 31.0.15.3623 fixes the flicker", "firmware: 1.1.4.7", "release 5.2.0.1 is a hotfix",
    "iOS 17.4.1 and macOS 14.4.1", "Python 3.12.2.final.0", "CHANGELOG 2.6.3.0\n- faster start",
    "com.example.app 4.10.2.1 (Build 57)", "app_version=7.12.3.4", "This is build 1.0.0.254 of the installer",
    # e-mail look-alikes
    "spinner@2x.gif and spinner@3x.gif", "See docs/img/architecture@2x.png", "`@angular/core@17.2.1`",
    "ssh git@bitbucket.org", "uses: actions/checkout@v4", "image: python@sha256:abc123", "@Override public void run()",
    "Contact us via the form (no e-mail please).", "logo@2x.png, logo@3x.png", "pnpm add react@18.2.0",
    # phone look-alikes
    "Error code 0x80070005", "Transaction 4829-3391-0042 failed", "Request 212-555-0147 approved",
    "Between 2019-2023 revenue doubled", "Shipment 1Z 999 AA1 01 2345 6784", "order 555 019 2834",
    "Gate 0800 to 1700 daily", "ISBN 0 306 40615 2", "call stack depth 1024 2048 4096",
    "09:00 - 17:30 weekdays", "GMT+01:00", "UTC+05:30 (India)", "+15% growth", "+1 this", "page 12 of 305",
    # card look-alikes
    "Account 1234 5678 9012 3456 is a test account", "Transaction id 4000 0000 0000 0001 2024",
    "serial 4556 7375 8689 9856 7", "Membership no. 6011 1111 1111 1118 (loyalty)", "UUID-ish 4111-111-111-111",
    "Build 20240315123456789", "Meter reading 5432 1098 7654 3210",
    # IBAN, SSN, NINO look-alikes
    "BIC DEUTDEFF500", "SWIFT NWBKGB2L", "VAT number GB 123 4567 89", "EIN 12-3456789", "ITIN 9XX-7X-XXXX",
    "Case 123-45-6789 closed", "ZIP+4 94105-1234", "The booking code is AB 12 34 56", "part AB123456 rev C",
    "PO ab123456", "Tracking no. JD014600006281234567",
    # network look-alikes
    "fe80 prefix means link-local", "Use 2001:db8::/32 in documentation examples", "time 23:59:59.999",
    "key:value:pair", "a::b", "C:\\Program Files\\App", "ratio 1:1:1:1", "mac address 3c:22:fb:7a:01:9e",
    "std::chrono::seconds(30)", "urn:ietf:params:oauth:grant-type:jwt-bearer",
    # secret look-alikes
    "the token limit is 128000 for this model", "set OPENAI_API_KEY in your .env file", "token: ${TOKEN}",
    "API key: stored in Vault under kv/app/prod", "password: *** (hidden)", "secret: see 1Password",
    "the password must contain 12 characters", "password: Password1 is banned", "The secret sauce is mayo.",
    "Tokens are counted with tiktoken.", "token_usage={'prompt': 1200, 'completion': 300}", "csrftoken=; Path=/",
    "AWS_SECRET_ACCESS_KEY=<your secret key>", "aws_secret_access_key = YOUR_SECRET_ACCESS_KEY",
    "ghp_<36 characters>", "ghp_... (redacted)", "sk-... (truncated)", "Authorization: Bearer ***",
    "Authorization: Bearer YOUR_TOKEN_HERE", "xoxb-XXXXXXXXXXXX-XXXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
    "AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "password = os.getenv(\"DB_PASSWORD\")", "token = getToken()",
    "secret = vault.read('db')['password']", "api_key: !ENV ${API_KEY}", "password: '{{ db_password }}'",
    "sha256sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "git commit 3f786850e387550fdab836ed7e6dc881de23001b", "uuid 550e8400-e29b-41d4-a716-446655440000",
    "nonce=8d1f2a3b4c5d6e7f", "cache key v2:users:42:profile", "etag W/\"0815\"",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----",
    "password reset token expired after 15 minutes", "token: refreshed at 2024-03-15T10:00:00Z",
    # prose with numbers
    "Q3 revenue: $4.2M, up 12% from 3.75M", "We hired 14 people in 2 offices (Berlin, Lisbon).",
    "The meeting moved to 15.03. at 10:30 in room 2.014.", "Standard deviation 0.0231, n=1204",
    "Coordinates 48.8566, 2.3522 (Paris)", "Latitude 51.5074 N, longitude 0.1278 W",
    "Temperature 21.5 °C, humidity 45 %", "Hex colour #3a7bd5 → rgb(58, 123, 213)",
]
