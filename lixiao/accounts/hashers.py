"""Password hashing tuned for the graduation-day login storm, inside OWASP's Argon2id guidance."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with m=19 MiB, t=2, p=1 — the second of OWASP's equivalent configurations
    (Password Storage Cheat Sheet: m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5,
    all p=1).

    Measured on this project's 2-core machine (argon2-cffi 25.1, median of 15 hashes):
    Django's default (m=100 MiB, t=2, p=8) takes 99.5 ms and 100 MiB a hash, so 16 concurrent
    logins hold 1.6 GiB and the CPU is the limit at about 8 logins/s; m=46 MiB t=1 takes 33 ms;
    m=19 MiB t=2 takes 17.0 ms; m=12 MiB t=3 16.0 ms; m=7 MiB t=5 14.4 ms. The smaller-memory rows
    save at most 3 ms more, while memory is what makes a GPU attacker pay, so 19 MiB/t=2 is the
    pick: 16 concurrent logins hold 304 MiB. One lane (p=1) because a login is one request among
    many on a busy node: lanes would only take cores from the requests beside it.

    The algorithm name stays "argon2", so every stored hash (Django's defaults included) still
    verifies; Django's must_update sees the other parameters and re-hashes the password with
    these at the person's next successful login.
    """

    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1
