#!/usr/bin/python3
"""A throwaway test CA and server certificates for HTTPS tests (python3-
cryptography, Debian's package; nothing leaves the test's directory):

- good:      signed by the test CA for 127.0.0.1 and localhost, valid now;
- wrongname: signed by the test CA, valid now, but for tracker.invalid only;
- expired:   signed by the test CA for 127.0.0.1, valid for a day a year ago.

make(dirpath, ca_name) writes ca.pem and NAME.crt / NAME.key for each and returns
{"ca": path, NAME: (cert, key), ...}.  python's ssl serves them
(server_context)."""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def make(dirpath, ca_name="btlaunchmany test CA"):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name)).issuer_name(_name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=400)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    out = {"ca": os.path.join(dirpath, "ca.pem")}
    _write_cert(out["ca"], ca)

    def leaf(name, sans, start, end):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        return cert, key

    here = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    certs = {
        "good": leaf("127.0.0.1", here, now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)),
        "wrongname": leaf("tracker.invalid", [x509.DNSName("tracker.invalid")],
                          now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)),
        "expired": leaf("127.0.0.1", here, now - datetime.timedelta(days=366), now - datetime.timedelta(days=365)),
    }
    for name, (cert, key) in certs.items():
        crt, k = os.path.join(dirpath, name + ".crt"), os.path.join(dirpath, name + ".key")
        _write_cert(crt, cert)
        _write_key(k, key)
        out[name] = (crt, k)
    return out


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def wrap_server(srv, cert, key):
    """TLS on an http.server listening socket; the handshake runs in the
    request's own thread (first read), so a stalled client blocks no one."""
    srv.socket = server_context(cert, key).wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    return srv
