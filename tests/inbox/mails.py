"""Raw messages as real mail clients write them (CRLF, folded headers, encoded words)."""

from __future__ import annotations


def thunderbird_reply(n: int = 1) -> bytes:
    return (
        f"Message-ID: <{n}a2b3c4d-0000-4000-8000-00000000000{n % 10}@example.org>\r\n"
        "Date: Mon, 1 Jun 2026 09:12:44 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        "User-Agent: Mozilla Thunderbird\r\n"
        "Subject: Re: Coffee roulette: are you in this round?\r\n"
        "Content-Language: en-US\r\n"
        "To: Coffee roulette <replies@example.com>\r\n"
        "References: <opt-in.42.7@sessionctl.example.com>\r\n"
        "In-Reply-To: <opt-in.42.7@sessionctl.example.com>\r\n"
        f"From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee{n}@example.org>\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Yes, count me in! \xe2\x98\x95\r\n"
        "\r\n"
        "On 01/06/2026 08:00, Coffee roulette wrote:\r\n"
        "> Will you join round 7?\r\n"
    ).encode("latin-1")


GMAIL_REPLY = (
    b"MIME-Version: 1.0\r\n"
    b"Date: Tue, 2 Jun 2026 18:03:11 +0100\r\n"
    b"References: <opt-in.42.8@sessionctl.example.com>\r\n"
    b"In-Reply-To: <opt-in.42.8@sessionctl.example.com>\r\n"
    b"Message-ID: <CAF=x0q+Zs1u2v3w4x5y6z7@mail.gmail.com>\r\n"
    b"Subject: Re: Coffee roulette: are you in this round?\r\n"
    b"From: Sam Smith <sam@example.net>\r\n"
    b"To: replies@example.com\r\n"
    b'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"\r\n'
    b"\r\n"
    b"--000000000000a1b2c3d4e5f6\r\n"
    b'Content-Type: text/plain; charset="UTF-8"\r\n'
    b"\r\n"
    b"no, pause me until September please\r\n"
    b"\r\n"
    b"--000000000000a1b2c3d4e5f6\r\n"
    b'Content-Type: text/html; charset="UTF-8"\r\n'
    b"\r\n"
    b'<div dir="ltr">no, pause me until September please</div>\r\n'
    b"\r\n"
    b"--000000000000a1b2c3d4e5f6--\r\n"
)


def reply_to_us(n: int = 1) -> bytes:
    """A reply to one of our invitations, naming its Message-ID as sessionctl writes them."""
    return (
        f"Message-ID: <{n}f00d-reply@example.org>\r\n"
        "Date: Mon, 1 Jun 2026 09:12:44 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        "Subject: Re: Coffee roulette: are you in this round?\r\n"
        "To: Coffee roulette <replies@example.com>\r\n"
        f"From: Member {n} <member{n}@example.org>\r\n"
        f"References: <sessionctl.42.{n}.opt_in.a1b2c3d4e5f6@coffee.example.com>\r\n"
        f"In-Reply-To: <sessionctl.42.{n}.opt_in.a1b2c3d4e5f6@coffee.example.com>\r\n"
        "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
        "\r\n"
        "Yes, count me in!\r\n"
    ).encode()


def personal_mail(n: int = 1) -> bytes:
    """Mail that is none of ours: the admin's own correspondence in the same inbox."""
    return (
        f"Message-ID: <{n}.family@example.net>\r\n"
        "Date: Sun, 31 May 2026 20:01:00 +0200\r\n"
        "MIME-Version: 1.0\r\n"
        f"Subject: Photos from the weekend ({n})\r\n"
        "From: Mum <mum@example.net>\r\n"
        "To: admin@example.com\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "\r\n"
        "Here they are, love.\r\n" + "Some private words.\r\n" * 100
    ).encode()
