"""Being told to stop. Ctrl-C sends SIGINT; ``timeout``, ``kill``, ``docker stop``, systemd, a
cluster's scheduler and a notebook server's shutdown send SIGTERM; a closed terminal sends
SIGHUP. The commands treat all three alike: they keep what they computed, write their record
with the status ``interrupted`` (SIGINT) or ``terminated``, and exit with 128 + the signal's
number (130, 143 and 129), as a shell reports a process that the signal ended, unless their
results had to be kept in the temporary folder (74, ``atomic.EXIT_KEPT``).

A command runs inside ``held()``, which ignores the three while it saves, and does its work
inside ``stop_at_once()`` or ``stop_after_step()`` nested in it: leaving the inner block puts
``held``'s back, so that no moment is left in which a second signal kills a save.
"""
import signal
from contextlib import contextmanager

STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP, raised where the program is, as Python raises
    KeyboardInterrupt for Ctrl-C."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signum(interrupt):
    """The signal behind a KeyboardInterrupt: SIGINT unless it is a ``Stopped``."""
    return getattr(interrupt, 'signum', signal.SIGINT)


def status(number):
    return 'interrupted' if number == signal.SIGINT else 'terminated'


def exit_code(number):
    return 128 + int(number)


@contextmanager
def stop_at_once():
    """Ctrl-C, SIGTERM and SIGHUP raise ``Stopped`` at once inside the block: for a run whose
    best result so far is always ready to save."""
    def stop(number, frame):
        raise Stopped(number)
    with handlers(stop, STOPS):
        yield


@contextmanager
def stop_after_step(event):
    """Inside the block, the first Ctrl-C, SIGTERM or SIGHUP sets ``event`` (a run that
    watches it saves after the step under way and ends) and ``event.signum``; a second one
    raises at once, for a user who will not wait."""
    def stop(number, frame):
        if event.is_set():
            raise Stopped(number)
        event.signum = number
        event.set()
    with handlers(stop, STOPS):
        yield


@contextmanager
def handlers(handler, numbers):
    old = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield
    finally:
        for number, previous in old.items():
            signal.signal(number, previous)


@contextmanager
def held():
    """Ctrl-C, SIGTERM and SIGHUP ignored inside the block, but for the blocks nested in it:
    while a run saves its results, a signal must not cut the save short."""
    with handlers(signal.SIG_IGN, STOPS):
        yield
