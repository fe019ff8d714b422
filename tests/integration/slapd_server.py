"""A throw-away OpenLDAP server (Debian's slapd) for the directory tests.

It listens on 127.0.0.1 only, on ldap:// (StartTLS offered) and ldaps://,
with a certificate of a test CA (upstream_nginx.UpstreamPki), and holds a
small tree loaded with slapadd before it starts:

    dc=example,dc=org
      ou=services   cn=gatehouse (the service account: may read people and groups)
      ou=people     users (inetOrgPerson), passwords in self.passwords
      ou=groups     groupOfNames: admins, operators, readers, others (mapped to no role)

Each user also carries memberOf (the memberof overlay keeps it as groups
change), so a profile may read groups either way. A user whose employeeType
is "disabled" is the disabled one: the profile's
user_filter leaves such entries out (docs/directory.md), which slapd honours
without any overlay. stop() ends slapd by its PID; start() again serves the
same tree on the same ports. modify() changes the tree as its root.

AdSlapd is the same server holding a tree shaped as Active Directory's
(AD's attribute names and OIDs, objectClass user and group, memberOf,
userAccountControl, a continuation reference at the root), for the
Active Directory configuration of docs/directory.md (test_directory_ad.py).
"""

import base64
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from upstream_nginx import UpstreamPki

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=example,dc=org"
SERVICE_DN = f"cn=gatehouse,ou=services,{SUFFIX}"
ROOT_DN = f"cn=admin,{SUFFIX}"      # the tests change the tree as this one
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

# uid -> groups it is a member of
USERS = {
    "dana": ["admins"],
    "olly": ["operators"],
    "rita": ["readers"],
    "mixa": ["readers", "operators", "admins"],
    "nogr": ["others"],
    "dora": ["admins"],           # disabled (employeeType: disabled)
    "carol": ["admins"],          # a local account of the same name shadows it
    "jos\u00e9": ["readers"],     # a non-ASCII name
    "mova": ["readers"],          # moved to admins by a test
    "gone": ["operators"],        # deleted by a test
}
DISABLED = {"dora"}


def group_dn(name):
    return f"cn={name},{GROUPS}"


def user_dn(uid):
    return f"uid={uid},{PEOPLE}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _attr(name, value):
    """An LDIF line; base64 (name:: ...) for anything beyond plain ASCII."""
    if value.isascii() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


class Slapd:
    USERS = USERS
    ROOT_DN = ROOT_DN

    def __init__(self, directory, debug="0"):
        self.debug = debug              # slapd -d: "stats" logs each operation
        self.dir = Path(directory)
        self.dir.mkdir(parents=True)
        os.chmod(self.dir, 0o755)
        self.pki = UpstreamPki(self.dir / "pki", name="ldap.test")
        self.ldap_port, self.ldaps_port = free_port(), free_port()
        self.service_password = "Svc-" + secrets.token_urlsafe(12)
        self.root_password = "Root-" + secrets.token_urlsafe(12)
        self.passwords = {uid: f"Dir-{secrets.token_urlsafe(10)}" for uid in self.USERS}
        self.proc = None
        self.log_path = self.dir / "slapd.log"
        (self.dir / "db").mkdir()
        self.conf = self.dir / "slapd.conf"
        self.conf.write_text(self._conf_text())
        (self.dir / "tree.ldif").write_text(self._tree_ldif(), encoding="utf-8")
        subprocess.run([SLAPADD, "-f", str(self.conf), "-l", str(self.dir / "tree.ldif")],
                       check=True, capture_output=True, timeout=60)

    @property
    def ldap_url(self):
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self):
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def _conf_text(self):
        d = self.dir
        return "\n".join([
            "include /etc/ldap/schema/core.schema",
            "include /etc/ldap/schema/cosine.schema",
            "include /etc/ldap/schema/inetorgperson.schema",
            # As Active Directory does: a DN with an empty password is an
            # unauthenticated bind, and succeeds (RFC 4513 5.1.2).
            "allow bind_anon_dn",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "moduleload memberof",
            f"pidfile {d}/slapd.pid",
            f"argsfile {d}/slapd.args",
            f"TLSCACertificateFile {self.pki.ca}",
            f"TLSCertificateFile {self.pki.cert}",
            f"TLSCertificateKeyFile {self.pki.key}",
            "database mdb",
            "maxsize 16777216",
            f'suffix "{SUFFIX}"',
            f"directory {d}/db",
            f'rootdn "{ROOT_DN}"',
            f"rootpw {self.root_password}",
            # memberOf on each user, kept up to date as groups change (the
            # tree loads it with slapadd, which runs no overlay)
            "overlay memberof",
            "access to attrs=userPassword by anonymous auth by * none",
            f'access to * by dn.exact="{SERVICE_DN}" read by * none',
            "",
        ])

    def _tree_ldif(self):
        entries = [
            [f"dn: {SUFFIX}", "objectClass: dcObject", "objectClass: organization",
             "dc: example", "o: Example"],
        ]
        for ou in ("services", "people", "groups"):
            entries.append([f"dn: ou={ou},{SUFFIX}", "objectClass: organizationalUnit",
                            f"ou: {ou}"])
        entries.append([f"dn: {SERVICE_DN}", "objectClass: organizationalRole",
                        "objectClass: simpleSecurityObject", "cn: gatehouse",
                        f"userPassword: {self.service_password}"])
        for uid in USERS:
            e = [_attr("dn", user_dn(uid)), "objectClass: inetOrgPerson", _attr("uid", uid),
                 _attr("cn", uid), "sn: Test", f"userPassword: {self.passwords[uid]}"]
            if uid in DISABLED:
                e.append("employeeType: disabled")
            e += [_attr("memberOf", group_dn(g)) for g in USERS[uid]]
            entries.append(e)
        for g in ("admins", "operators", "readers", "others"):
            members = [u for u, gs in USERS.items() if g in gs]
            entries.append([f"dn: {group_dn(g)}", "objectClass: groupOfNames", f"cn: {g}"]
                           + [_attr("member", user_dn(u)) for u in members])
        return "\n\n".join("\n".join(e) for e in entries) + "\n"

    def start(self, timeout=20.0):
        assert self.proc is None
        urls = f"{self.ldap_url}/ {self.ldaps_url}/"
        log = open(self.log_path, "ab")
        # -d: in the foreground (a child of the test); 0 logs nothing, stats
        # each operation (to self.log_path).
        self.proc = subprocess.Popen([SLAPD, "-f", str(self.conf), "-h", urls, "-d", self.debug],
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited {self.proc.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("slapd did not answer in time")

    def _answers(self):
        for port in (self.ldap_port, self.ldaps_port):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            except OSError:
                return False
        return True

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def modify(self, ldif):
        """Apply LDIF changes (ldapmodify) as the directory's root."""
        env = dict(os.environ, LDAPTLS_CACERT=str(self.pki.ca))
        subprocess.run(["ldapmodify", "-x", "-H", self.ldaps_url, "-D", self.ROOT_DN,
                        "-w", self.root_password], input=ldif, text=True, env=env,
                       check=True, capture_output=True, timeout=30)

    def profile(self, name="corp", **over):
        """A [directory NAME] section for this server (group search, ldaps)."""
        p = {
            "servers": self.ldaps_url,
            "ca": str(self.pki.ca),
            "bind_dn": SERVICE_DN,
            "user_base": PEOPLE,
            "user_filter": "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
            "user_attribute": "uid",
            "group_attribute": "",
            "group_base": GROUPS,
            "group_filter": "(objectClass=groupOfNames)",
            "group_member_attribute": "member",
            "administrator_groups": group_dn("admins"),
            "operator_groups": group_dn("operators"),
            "readonly_groups": group_dn("readers"),
            "connect_timeout": 3,
            "bind_timeout": 3,
            "search_timeout": 3,
        }
        p.update(over)
        return {f"directory {name}": p}


# ------------------------------------------------------ the Active Directory shape

AD_SUFFIX = "DC=corp,DC=example,DC=com"
AD_DOMAIN = "corp.example.com"              # userPrincipalName's suffix
AD_SERVICE_DN = f"CN=gatehouse,OU=Service Accounts,{AD_SUFFIX}"
AD_ROOT_DN = f"CN=root,{AD_SUFFIX}"
AD_PEOPLE = f"OU=People,{AD_SUFFIX}"
AD_GROUPS = {   # group -> its DN, as docs/directory.md's [directory ad] names them
    "BMC Admins": f"CN=BMC Admins,OU=Groups,{AD_SUFFIX}",
    "BMC Operators": f"CN=BMC Operators,OU=Groups,{AD_SUFFIX}",
    "Domain Users": f"CN=Domain Users,CN=Users,{AD_SUFFIX}",
    "Helpdesk": f"CN=Helpdesk,OU=Groups,{AD_SUFFIX}",     # a member of BMC Operators
}
AD_NESTED = {"Helpdesk": "BMC Operators"}   # group -> the group it is a member of
# sAMAccountName -> (cn, userAccountControl, direct groups)
AD_USERS = {
    "ada": ("Ada Admin", 512, ["BMC Admins", "Domain Users"]),
    "olly": ("Olly Operator", 512, ["BMC Operators", "Domain Users"]),
    "rudi": ("Rudi Reader", 512, ["Domain Users"]),
    # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD (65536): enabled, bit 2 clear
    "nex": ("Nex Noexpiry", 66048, ["BMC Operators"]),
    "dis": ("Dis Abled", 514, ["BMC Admins"]),                  # ACCOUNTDISABLE (2)
    "dex": ("Dex Disabled", 66050, ["BMC Admins"]),             # 65536 | 512 | 2
    "nest": ("Nest Helpdesk", 512, ["Helpdesk"]),               # BMC Operators only through Helpdesk
}
# The attribute types and object classes Active Directory names, with
# Microsoft's OIDs and the matching AD applies (case-insensitive names,
# integers), declared in slapd.conf: Debian's msuser.schema has no
# EQUALITY for sAMAccountName, so no filter on it would ever match there.
# objectCategory is a DN on AD, which resolves (objectCategory=person) to
# its class's schema entry; here it holds the short name itself.
AD_SCHEMA = [
    "attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch "
    "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch "
    "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
    "attributetype ( 1.2.840.113556.1.4.782 NAME 'objectCategory' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "attributetype ( 1.2.840.113556.1.4.750 NAME 'groupType' EQUALITY integerMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL "
    "MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ memberOf $ "
    "objectCategory ) )",
    "objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL MUST cn "
    "MAY ( member $ sAMAccountName $ groupType $ memberOf $ objectCategory ) )",
    "objectclass ( 1.2.840.113556.1.3.23 NAME 'container' SUP top STRUCTURAL MUST cn )",
]


def ad_user_dn(sam):
    return f"CN={AD_USERS[sam][0]},{AD_PEOPLE}"


class AdSlapd(Slapd):
    """The same throw-away slapd holding a tree shaped as Active Directory's:

        DC=corp,DC=example,DC=com
          OU=Service Accounts  CN=gatehouse (the service account, a user)
          OU=People            users (objectClass user, objectCategory person),
                               CN=<full name>, sAMAccountName, userPrincipalName
                               NAME@corp.example.com, userAccountControl, memberOf
          OU=Groups            BMC Admins, BMC Operators, Helpdesk (objectClass group)
          CN=Users             Domain Users (in a container, as AD keeps it)
          DC=DomainDnsZones    a referral: searches of the domain's root get a
                               continuation reference, as on AD

    memberOf is written on each user with the direct groups only, as AD
    computes it; AD keeps it itself, here slapadd loads it (no memberof
    overlay: the schema above declares AD's memberOf). A disabled user has
    userAccountControl bit 2 (ACCOUNTDISABLE) set, and the profile's filter
    leaves it out with AD's bitwise rule 1.2.840.113556.1.4.803, which
    slapd implements (integerBitAndMatch). USERS is keyed by sAMAccountName."""

    USERS = AD_USERS
    ROOT_DN = AD_ROOT_DN

    def __init__(self, directory, referral=None):
        """referral: the server DC=DomainDnsZones refers to (an LDAP URL;
        AD's own name for it by default)."""
        self.referral = referral or f"ldap://domaindnszones.{AD_DOMAIN}/"
        super().__init__(directory)

    def _conf_text(self):
        d = self.dir
        return "\n".join([
            "include /etc/ldap/schema/core.schema",
            "include /etc/ldap/schema/cosine.schema",
            *AD_SCHEMA,
            "allow bind_anon_dn",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            f"pidfile {d}/slapd.pid",
            f"argsfile {d}/slapd.args",
            f"TLSCACertificateFile {self.pki.ca}",
            f"TLSCertificateFile {self.pki.cert}",
            f"TLSCertificateKeyFile {self.pki.key}",
            "database mdb",
            "maxsize 16777216",
            f'suffix "{AD_SUFFIX}"',
            f"directory {d}/db",
            f'rootdn "{AD_ROOT_DN}"',
            f"rootpw {self.root_password}",
            "access to attrs=userPassword by anonymous auth by * none",
            f'access to * by dn.exact="{AD_SERVICE_DN}" read by * none',
            "",
        ])

    def _tree_ldif(self):
        def user(dn, sam, uac, extra):
            return [_attr("dn", dn), "objectClass: user", "objectCategory: person",
                    _attr("cn", dn.split(",")[0][3:]), "sn: Test",
                    _attr("sAMAccountName", sam), _attr("userPrincipalName", f"{sam}@{AD_DOMAIN}"),
                    f"userAccountControl: {uac}"] + extra

        entries = [[f"dn: {AD_SUFFIX}", "objectClass: dcObject", "objectClass: organization",
                    "dc: corp", "o: Corp"]]
        for ou in ("Service Accounts", "People", "Groups"):
            entries.append([f"dn: OU={ou},{AD_SUFFIX}", "objectClass: organizationalUnit",
                            f"ou: {ou}"])
        entries.append([f"dn: CN=Users,{AD_SUFFIX}", "objectClass: container", "cn: Users"])
        entries.append([f"dn: DC=DomainDnsZones,{AD_SUFFIX}", "objectClass: referral",
                        "objectClass: extensibleObject", "dc: DomainDnsZones",
                        f"ref: {self.referral}DC=DomainDnsZones,{AD_SUFFIX}"])
        entries.append(user(AD_SERVICE_DN, "gatehouse", 66048,
                            [f"userPassword: {self.service_password}"]))
        for sam, (_, uac, groups) in AD_USERS.items():
            entries.append(user(ad_user_dn(sam), sam, uac,
                                [f"userPassword: {self.passwords[sam]}"]
                                + [_attr("memberOf", AD_GROUPS[g]) for g in groups]))
        for g, dn in AD_GROUPS.items():
            members = [ad_user_dn(u) for u, (_, _, gs) in AD_USERS.items() if g in gs]
            members += [AD_GROUPS[n] for n, parent in AD_NESTED.items() if parent == g]
            entries.append([_attr("dn", dn), "objectClass: group", "objectCategory: group",
                            _attr("cn", g), _attr("sAMAccountName", g),
                            "groupType: -2147483646"]
                           + [_attr("member", m) for m in members]
                           + ([_attr("memberOf", AD_GROUPS[AD_NESTED[g]])]
                              if g in AD_NESTED else []))
        return "\n\n".join("\n".join(e) for e in entries) + "\n"
