"""test_certificates.py: the server certificate `serve` presents near its end.

A certificate gatehouse made itself (signed by DATA/pki/ca.key) within 30 days
of its end is renewed by `serve` before nginx starts, from the same CA, for the
full 825 days; one the operator brought with `init --cert/--key` is never
replaced, only warned about. The short certificates are made with the openssl
command, as an operator's tooling would, and the one the server presents is
read over TLS.
"""

import os
import ssl
import subprocess
import time

import gatehouse_harness as H


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def sign_server(workdir, ca, ca_key, days, out_cert, out_key):
    """A P-256 server certificate for 127.0.0.1 and localhost, valid for days,
    signed by ca/ca_key."""
    ext = workdir / "server.ext"
    ext.write_text("basicConstraints = critical,CA:FALSE\n"
                   "keyUsage = critical,digitalSignature\n"
                   "extendedKeyUsage = serverAuth\n"
                   "subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(out_key),
            cwd=workdir)
    openssl("req", "-new", "-key", str(out_key), "-subj", "/CN=localhost",
            "-out", "server.csr", cwd=workdir)
    openssl("x509", "-req", "-in", "server.csr", "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", str(days), "-sha256", "-extfile", str(ext),
            "-out", str(out_cert), cwd=workdir)


def served_certificate(gh):
    """The server certificate gh presents, as PEM."""
    return ssl.get_server_certificate(("127.0.0.1", gh.port))


def not_after(pem):
    p = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=pem,
                       capture_output=True, text=True, check=True)
    return ssl.cert_time_to_seconds(p.stdout.strip().split("=", 1)[1])


def same_certificate(a, b):
    return ssl.PEM_cert_to_DER_cert(a) == ssl.PEM_cert_to_DER_cert(b)


def test_our_certificate_is_renewed_near_its_end(make_server):
    gh = make_server(start=False)
    pki = gh.data / "pki"
    work = gh.dir / "short"
    work.mkdir()
    # ten days left on a certificate of gatehouse's own CA
    sign_server(work, pki / "ca.pem", pki / "ca.key", 10, work / "server.pem",
                work / "server.key")
    ca = (pki / "ca.pem").read_text()
    short = (work / "server.pem").read_text()
    for name, text, mode in (("server.key", (work / "server.key").read_text(), 0o600),
                             ("server.pem", short, 0o644),
                             ("server-chain.pem", short + ca, 0o644)):
        (pki / name).write_text(text)
        os.chmod(pki / name, mode)
        os.chown(pki / name, gh.owner_uid, gh.owner_gid)
    gh.start()
    now = served_certificate(gh)
    assert not same_certificate(now, short)
    assert not_after(now) > time.time() + 824 * 86400
    assert same_certificate((pki / "server.pem").read_text(), now)
    assert (pki / "ca.pem").read_text() == ca              # the same CA: still trusted
    assert "a new one from the same CA" in gh.stderr_text()
    assert gh.login()[0]
    # renewed once: the next start keeps it
    gh.restart()
    assert same_certificate(served_certificate(gh), now)


def test_a_certificate_brought_by_the_operator_is_never_replaced(base_dir):
    gh = H.Gatehouse(base_dir, "byo-near-end")
    work = gh.dir / "byo"
    work.mkdir()
    os.chmod(work, 0o755)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "365",
            "-subj", "/CN=operator CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    sign_server(work, work / "ca.pem", work / "ca.key", 7, work / "server.pem",
                work / "server.key")
    (work / "chain.pem").write_text((work / "server.pem").read_text()
                                    + (work / "ca.pem").read_text())
    for name in ("chain.pem", "server.key"):
        os.chmod(work / name, 0o644)
    brought = (work / "server.pem").read_text()
    try:
        gh.write_config()
        pw = gh.secret_file(gh.admin_password, "admin.pw")
        gh.cli("init", "--admin-password-file", pw, "--cert", str(work / "chain.pem"),
               "--key", str(work / "server.key"), timeout=120)
        st = os.stat(gh.data)
        gh.owner_uid, gh.owner_gid = st.st_uid, st.st_gid
        gh.start()
        assert same_certificate(served_certificate(gh), brought)
        assert not (gh.data / "pki" / "ca.key").exists()
        assert "warning: the server certificate you brought ends on" in gh.stderr_text()
        assert "gatehouse never replaces it" in gh.stderr_text()
        assert gh.login()[0]
    finally:
        gh.stop()
        problems = [w for w, _ in gh.sanitizer_reports()] + gh.leaked_secrets()
        assert not problems, problems
        gh.cleanup()
