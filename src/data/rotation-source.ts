/**
 * The Lambda handlers behind DjangoDatabase's credentials, as inline Python source (`index.rotate`,
 * `index.setup`). Inline and owned by the library: no Serverless Application Repository, no
 * `AWS::SecretsManager` transform, so the same template deploys in every region.
 *
 * psycopg is not in the Lambda runtime and bundling it would need a build: the handlers speak the
 * PostgreSQL wire protocol themselves (standard library only: TLS, SCRAM-SHA-256 or MD5, simple
 * queries), and use the boto3 that every Python Lambda runtime ships.
 *
 * - `rotate`: a Secrets Manager rotation function (createSecret, setSecret, testSecret, finishSecret).
 *   A secret with a `masterarn` field rotates with alternating users (`<name>_a` and `<name>_b`, both
 *   members of the NOLOGIN role in `role`, which owns the tables): the new password goes to the user
 *   that is not current, so the credentials running tasks hold stay valid until the rotation after
 *   next; finishSecret then redeploys the services in `REDEPLOY_SERVICES` (JSON list of
 *   [cluster ARN, service ARN]), which replaces every task well within that window. A secret without
 *   `masterarn` rotates single-user (the master: only these handlers use it, and they read it anew
 *   on every call).
 * - `setup`: a CloudFormation custom resource (Create/Update) that creates the owner role and the
 *   app's first login user with the app secret's password, before migrations or services start.
 *   Delete keeps the users (the data outlives the stack).
 *
 * Passwords are sent to PostgreSQL as SCRAM-SHA-256 verifiers, never in clear text. TLS is required
 * but the server certificate is not verified (the runtime has no RDS CA bundle), as with the AWS
 * rotation templates' default `sslmode=require`.
 *
 * Tests run this file with a stand-in for boto3 against a real PostgreSQL.
 */
export const ROTATION_HANDLER_SOURCE = String.raw`import base64, hashlib, hmac, json, os, secrets as rnd, socket, ssl, struct, urllib.request

import boto3

sm = boto3.client('secretsmanager')
# Characters a password may not contain: those the RDS secret format and connection URLs trip on.
EXCLUDE = ' %+~\'"\\/@:;?#[]{}<>|,=&$'


class PgError(Exception):
    pass


def lit(s):
    return "'" + str(s).replace("'", "''") + "'"


def ident(s):
    return '"' + str(s).replace('"', '""') + '"'


class Pg:
    """A minimal PostgreSQL client: TLS, password authentication, simple queries."""

    def __init__(self, host, port, user, password, dbname, timeout=10):
        raw = socket.create_connection((host, int(port)), timeout=timeout)
        raw.sendall(struct.pack('!ii', 8, 80877103))
        if raw.recv(1) != b'S':
            raw.close()
            raise PgError('the server does not offer TLS')
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(raw)
        self.buf = b''
        body = b''
        for k, v in (('user', user), ('database', dbname), ('application_name', 'cdk-django-credentials')):
            body += k.encode() + b'\0' + str(v).encode() + b'\0'
        body += b'\0'
        self.sock.sendall(struct.pack('!ii', len(body) + 8, 196608) + body)
        self._authenticate(user, password)

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError('the server closed the connection')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read(self):
        kind, n = struct.unpack('!ci', self._exact(5))
        body = self._exact(n - 4)
        if kind == b'E':
            fields = dict((f[:1], f[1:].decode(errors='replace')) for f in body.split(b'\0') if f)
            raise PgError('%s (%s)' % (fields.get(b'M', 'error'), fields.get(b'C', '')))
        return kind, body

    def _send(self, kind, body):
        self.sock.sendall(kind + struct.pack('!i', len(body) + 4) + body)

    def _authenticate(self, user, password):
        while True:
            kind, body = self._read()
            if kind == b'Z':
                return
            if kind != b'R':
                continue  # ParameterStatus, BackendKeyData
            code = struct.unpack('!i', body[:4])[0]
            if code == 0:
                continue
            if code == 3:
                self._send(b'p', password.encode() + b'\0')
            elif code == 5:
                inner = hashlib.md5(password.encode() + user.encode()).hexdigest().encode()
                self._send(b'p', b'md5' + hashlib.md5(inner + body[4:8]).hexdigest().encode() + b'\0')
            elif code == 10:
                self._scram(password)
            else:
                raise PgError('unsupported authentication request %d' % code)

    def _scram(self, password):
        nonce = base64.b64encode(rnd.token_bytes(18)).decode()
        first_bare = 'n=,r=' + nonce
        first = ('n,,' + first_bare).encode()
        self._send(b'p', b'SCRAM-SHA-256\0' + struct.pack('!i', len(first)) + first)
        kind, body = self._read()
        server_first = body[4:].decode()
        attrs = dict(a.split('=', 1) for a in server_first.split(','))
        if not attrs['r'].startswith(nonce):
            raise PgError('SCRAM nonce mismatch')
        salted = hashlib.pbkdf2_hmac('sha256', password.encode(), base64.b64decode(attrs['s']), int(attrs['i']))
        client_key = hmac.new(salted, b'Client Key', 'sha256').digest()
        final_bare = 'c=biws,r=' + attrs['r']
        auth_message = (first_bare + ',' + server_first + ',' + final_bare).encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, 'sha256').digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        self._send(b'p', (final_bare + ',p=' + proof).encode())
        kind, body = self._read()
        server_key = hmac.new(salted, b'Server Key', 'sha256').digest()
        expected = base64.b64encode(hmac.new(server_key, auth_message, 'sha256').digest()).decode()
        if body[4:].decode() != 'v=' + expected:
            raise PgError('the server failed SCRAM verification')

    def query(self, sql):
        self._send(b'Q', sql.encode() + b'\0')
        rows, error = [], None
        while True:
            try:
                kind, body = self._read()
            except PgError as e:
                error = e  # the server still ends with ReadyForQuery
                continue
            if kind == b'D':
                count, pos, row = struct.unpack('!h', body[:2])[0], 2, []
                for _ in range(count):
                    n = struct.unpack('!i', body[pos:pos + 4])[0]
                    pos += 4
                    row.append(None if n < 0 else body[pos:pos + n].decode())
                    pos += max(n, 0)
                rows.append(row)
            elif kind == b'Z':
                if error:
                    raise error
                return rows

    def close(self):
        try:
            self._send(b'X', b'')
            self.sock.close()
        except OSError:
            pass


def scram_verifier(password, iterations=4096):
    salt = rnd.token_bytes(16)
    salted = hashlib.pbkdf2_hmac('sha256', password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.new(salted, b'Client Key', 'sha256').digest()).digest()
    server = hmac.new(salted, b'Server Key', 'sha256').digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (iterations, b64(salt), b64(stored), b64(server))


def connect(creds, host_from=None):
    where = host_from or creds
    return Pg(where['host'], where['port'], creds['username'], creds['password'], where['dbname'])


def secret_value(arn, stage='AWSCURRENT', version=None):
    args = {'SecretId': arn, 'VersionStage': stage}
    if version:
        args['VersionId'] = version
    return json.loads(sm.get_secret_value(**args)['SecretString'])


def master_connection(master_arn, target):
    """The master, as AWSCURRENT, or as AWSPENDING while the master's own rotation is between setSecret and finishSecret."""
    try:
        return connect(secret_value(master_arn), target)
    except PgError:
        return connect(secret_value(master_arn, 'AWSPENDING'), target)


def other_user(username):
    if username.endswith('_a'):
        return username[:-2] + '_b'
    if username.endswith('_b'):
        return username[:-2] + '_a'
    raise ValueError('alternating users are named <name>_a and <name>_b, not %s' % username)


def ensure_owner_role(db, role, dbname):
    db.query('DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN CREATE ROLE %s NOLOGIN; END IF; END $$' % (lit(role), ident(role)))
    # The master must be a member to hand its objects over (PostgreSQL 16+ does not make a role's creator one).
    db.query('GRANT %s TO CURRENT_USER' % ident(role))
    db.query('GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s' % (ident(dbname), ident(role)))
    db.query('GRANT USAGE, CREATE ON SCHEMA public TO %s' % ident(role))
    # Tables the master created before the app had a user of its own (earlier versions migrated as the master).
    db.query(
        'DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace'
        " WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = CURRENT_USER)"
        " AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
        " AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))"
        " LOOP EXECUTE format('ALTER %%s public.%%I OWNER TO %%I', CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.relname, %s);"
        ' END LOOP; END $$' % lit(role))


def ensure_login_user(db, username, password, role):
    exists = db.query('SELECT 1 FROM pg_roles WHERE rolname = %s' % lit(username))
    verb = 'ALTER' if exists else 'CREATE'
    db.query('%s ROLE %s WITH LOGIN PASSWORD %s' % (verb, ident(username), lit(scram_verifier(password))))
    db.query('GRANT %s TO %s' % (ident(role), ident(username)))
    # Every session of either user acts as the owner role, so what migrations create belongs to it.
    db.query('ALTER ROLE %s SET role = %s' % (ident(username), lit(role)))


# ---- rotation ----

def rotate(event, context):
    arn, token, step = event['SecretId'], event['ClientRequestToken'], event['Step']
    meta = sm.describe_secret(SecretId=arn)
    if not meta.get('RotationEnabled'):
        raise ValueError('rotation is not enabled on %s' % arn)
    stages = meta['VersionIdsToStages']
    if token not in stages:
        raise ValueError('version %s of %s has no stage' % (token, arn))
    if 'AWSCURRENT' in stages[token]:
        return
    if 'AWSPENDING' not in stages[token]:
        raise ValueError('version %s of %s is not AWSPENDING' % (token, arn))
    {'createSecret': create_secret, 'setSecret': set_secret, 'testSecret': test_secret, 'finishSecret': finish_secret}[step](arn, token, stages)


def create_secret(arn, token, stages):
    current = secret_value(arn)
    try:
        secret_value(arn, 'AWSPENDING', token)
        return
    except sm.exceptions.ResourceNotFoundException:
        pass
    pending = dict(current)
    if 'masterarn' in current:
        pending['username'] = other_user(current['username'])
    pending['password'] = sm.get_random_password(PasswordLength=32, ExcludeCharacters=EXCLUDE)['RandomPassword']
    sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending), VersionStages=['AWSPENDING'])


def set_secret(arn, token, stages):
    pending = secret_value(arn, 'AWSPENDING', token)
    if 'masterarn' in pending:
        db = master_connection(pending['masterarn'], pending)
        try:
            ensure_login_user(db, pending['username'], pending['password'], pending['role'])
        finally:
            db.close()
        return
    # single user: it changes its own password, as itself (already done if the pending one works)
    try:
        connect(pending).close()
        return
    except PgError:
        pass
    db = connect(secret_value(arn))
    try:
        # A user whose sessions act as an owner role changes its own password as itself (RESET ROLE would
        # return to the owner role, the per-user default).
        db.query('SET ROLE NONE')
        db.query('ALTER ROLE SESSION_USER WITH PASSWORD %s' % lit(scram_verifier(pending['password'])))
    finally:
        db.close()


def test_secret(arn, token, stages):
    db = connect(secret_value(arn, 'AWSPENDING', token))
    try:
        db.query('SELECT 1')
    finally:
        db.close()


def finish_secret(arn, token, stages):
    current = next((v for v, s in stages.items() if 'AWSCURRENT' in s), None)
    if current == token:
        return
    sm.update_secret_version_stage(SecretId=arn, VersionStage='AWSCURRENT', MoveToVersionId=token, RemoveFromVersionId=current)
    if 'masterarn' in secret_value(arn):
        redeploy()


def redeploy():
    """Replaces the tasks of every service that holds the credentials, while the previous user still works."""
    services = json.loads(os.environ.get('REDEPLOY_SERVICES') or '[]')
    if services:
        ecs = boto3.client('ecs')
        for cluster, service in services:
            ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)


# ---- first deploy ----

def setup(event, context):
    status, reason, physical = 'SUCCESS', '', event.get('PhysicalResourceId') or 'cdk-django-app-user'
    try:
        if event['RequestType'] in ('Create', 'Update'):
            props = event['ResourceProperties']
            app = secret_value(props['AppSecretArn'])
            db = master_connection(props['MasterSecretArn'], app)
            try:
                ensure_owner_role(db, app['role'], app['dbname'])
                ensure_login_user(db, app['username'], app['password'], app['role'])
            finally:
                db.close()
            physical = 'cdk-django-app-user-' + app['role']
    except Exception as e:  # reported to CloudFormation, which otherwise waits an hour
        status, reason = 'FAILED', ('%s: %s' % (type(e).__name__, e))[:1000]
    respond(event, context, status, reason, physical)


def respond(event, context, status, reason, physical):
    body = json.dumps({
        'Status': status, 'Reason': reason or 'see the function log', 'PhysicalResourceId': physical,
        'StackId': event['StackId'], 'RequestId': event['RequestId'], 'LogicalResourceId': event['LogicalResourceId'],
    }).encode()
    request = urllib.request.Request(event['ResponseURL'], data=body, method='PUT', headers={'Content-Type': ''})
    urllib.request.urlopen(request, timeout=30).read()
`;
