"""directorylib.py: the servers of bench/run's rows 10 and 11, directory
accounts (docs/directory.md).

- slapd: the integration tests' throw-away OpenLDAP server
  (tests/integration/slapd_server.py, imported, not copied), on 127.0.0.1,
  over ldaps with its test CA, holding its small tree;
- gatehouse: a data directory of its own whose [directory corp] profile
  (the default) is that slapd, as slapd_server.Slapd.profile writes it,
  which is docs/directory.md's OpenLDAP configuration: the user searched
  for by the service account, the groups by a group search, a bind as the
  user;
- the raw rate: bench/ldap_bind_rate.c, the same operations on the same
  slapd over connections it keeps, from as many threads as gatehouse's
  hash pools have in all (workers times `thread_pool gatehouse_hash`
  threads of its nginx.conf), where directory logins run.

Every login of the rows is DIR_USER's, a member of the admins group.
"""

import os
import re
import sys
from pathlib import Path

import benchlib as bl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import slapd_server  # noqa: E402

PROFILE = "corp"
DIR_USER = "dana"


def _secret_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return path


class Directory:
    """slapd, and a gatehouse (name) whose default profile is it; slapd:
    another Directory's slapd, to share (it starts and stops it)."""

    def __init__(self, base, name, gatehouse_bin, config, admin_password, slapd=None):
        self.base = Path(base)
        self.own_slapd = slapd is None
        self.slapd = slapd or slapd_server.Slapd(self.base / "slapd")
        self.password = self.slapd.passwords[DIR_USER]
        self.gh = bl.Gatehouse(base, name, gatehouse_bin, config, admin_password)
        # the service password's file, given to whoever runs the workers once
        # `gatehouse init` has made the data directory theirs
        self.service_pw = _secret_file(self.gh.dir / "ldap.pw", self.slapd.service_password)
        profile = self.slapd.profile(PROFILE, bind_password_file=str(self.service_pw),
                                     default="true")
        self.keys = profile[f"directory {PROFILE}"]
        self.gh.set_config({**config, **profile})

    def start(self):
        if self.own_slapd:
            self.slapd.start()
        self.gh.init()
        if os.geteuid() == 0:
            os.chown(self.service_pw, *bl.owner_of(self.gh.data))
        self.gh.start()
        st, _, body = self.gh.client().request(
            "GET", "/redfish/v1/SessionService/Sessions",
            headers={"Authorization": bl.basic(DIR_USER, self.password)})
        if st != 200:
            raise RuntimeError(f"a directory user's Basic GET answered {st}: {body[:300]!r}\n"
                               f"{bl.tail(self.gh.log)}")
        return self

    def stop(self):
        if self.gh.proc is not None:
            self.gh.stop()
        if self.own_slapd:
            self.slapd.stop()

    def hash_threads(self):
        """Threads of all the workers' hash pools, where directory logins run."""
        conf = self.gh.nginx_conf()
        workers = bl.directive(conf, "worker_processes", "auto")
        workers = os.cpu_count() if workers == "auto" else int(workers)
        m = re.search(r"thread_pool\s+gatehouse_hash\s+threads=(\d+)", conf)
        if m is None:
            raise RuntimeError("no thread_pool gatehouse_hash in gatehouse's nginx.conf")
        return workers * int(m.group(1))

    def rate_cmd(self, rate_bin, seconds, threads):
        """bench/ldap_bind_rate's command line for this profile and user."""
        k = self.keys
        user_pw = _secret_file(self.gh.dir / "ldap-user.pw", self.password)
        service_pw = _secret_file(self.gh.dir / "ldap-service.pw", self.slapd.service_password)
        cmd = [str(rate_bin), "-H", k["servers"], "-C", k["ca"], "-D", k["bind_dn"],
               "-y", str(service_pw), "-b", k["user_base"], "-f", k["user_filter"],
               "-a", k["user_attribute"], "-u", DIR_USER, "-w", str(user_pw),
               "-s", str(seconds), "-t", str(threads)]
        if k.get("starttls") == "true":
            cmd.append("-Z")
        if k["group_attribute"]:
            cmd += ["-g", k["group_attribute"]]
        else:
            cmd += ["-B", k["group_base"], "-F", k["group_filter"],
                    "-m", k["group_member_attribute"]]
        return cmd
