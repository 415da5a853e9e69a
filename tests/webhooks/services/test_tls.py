"""HTTPS to a vetted, pinned IP: the TLS handshake still names (SNI) and verifies the URL's host."""

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webhooks import transport

HOST = "hooks.example.test"


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path):
    cert_path, key_path = _self_signed(tmp_path)
    seen = {"sni": [], "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["requests"] += 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_pinned_ip_with_the_hosts_name_and_refuses_an_untrusted_certificate(
    https_server, monkeypatch, settings
):
    # given a host name whose (stood-in) DNS answer is an allowlisted loopback address
    port, seen = https_server
    settings.WEBHOOKS_ALLOWLIST = ["127.0.0.1"]
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["127.0.0.1"])

    # when we post to it over HTTPS
    result = transport.post(
        f"https://{HOST}:{port}/hook",
        body=b"{}",
        headers={},
        connect_timeout=2,
        total_timeout=3,
        body_limit=1024,
    )

    # then the connection went to the vetted IP, the handshake named the URL's host, and the
    # self-signed certificate was refused: nothing was sent
    assert result.resolved_ip == "127.0.0.1"
    assert seen["sni"] == [HOST]
    assert result.error_class == "tls"
    assert seen["requests"] == 0
    assert not result.ok
