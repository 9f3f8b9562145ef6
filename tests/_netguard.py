"""Fail loudly on any network attempt that leaves the machine.

Installed by ``conftest.py`` for the whole test session (and usable in a
subprocess via ``python -c 'import tests._netguard as g; g.install()'``).
Loopback (127.0.0.0/8, ::1, localhost) and Unix sockets stay allowed: the
distributed tests talk to themselves over loopback.
"""
import ipaddress
import socket

ATTEMPTS = []
_installed = False
_orig = {}


class NetworkAccessError(RuntimeError):
    """Raised on a DNS lookup or connection to a non-loopback host."""


def _is_loopback(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in ('localhost', 'localhost.localdomain', '', socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(host.split('%')[0]).is_loopback
    except ValueError:
        return False


def _blocked(kind, target):
    ATTEMPTS.append((kind, target))
    raise NetworkAccessError(
        f'test suite made a network attempt: {kind} {target!r}; everything '
        'must run offline (only loopback is allowed)')


def install():
    """Patch socket so non-loopback lookups/connections raise."""
    global _installed
    if _installed:
        return
    _installed = True
    _orig['getaddrinfo'] = socket.getaddrinfo
    _orig['gethostbyname'] = socket.gethostbyname
    _orig['connect'] = socket.socket.connect
    _orig['connect_ex'] = socket.socket.connect_ex
    _orig['create_connection'] = socket.create_connection

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            _blocked('DNS lookup', host)
        return _orig['getaddrinfo'](host, *args, **kwargs)

    def gethostbyname(host):
        if not _is_loopback(host):
            _blocked('DNS lookup', host)
        return _orig['gethostbyname'](host)

    def _check_addr(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and \
                isinstance(address, tuple) and not _is_loopback(address[0]):
            _blocked('connect', address)

    def connect(self, address):
        _check_addr(self, address)
        return _orig['connect'](self, address)

    def connect_ex(self, address):
        _check_addr(self, address)
        return _orig['connect_ex'](self, address)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
