"""A stand-in for boto3 with just the Secrets Manager and ECS calls the credentials handlers make.

State (secrets with their versions and staging labels, ECS redeploys) lives in the JSON file named by
FAKE_AWS_STATE, so each handler invocation (one process per rotation step, as Lambda does) sees what
the previous one left. Staging labels move the way Secrets Manager moves them: a label is on at most
one version, and moving AWSCURRENT puts AWSPREVIOUS on the version it left.
"""
import json
import os
import secrets
import string


class ResourceNotFoundException(Exception):
    pass


class _Exceptions:
    ResourceNotFoundException = ResourceNotFoundException


def _load():
    with open(os.environ['FAKE_AWS_STATE']) as f:
        return json.load(f)


def _save(state):
    with open(os.environ['FAKE_AWS_STATE'], 'w') as f:
        json.dump(state, f, indent=1)


def _move(versions, stage, to):
    for v in versions.values():
        if stage in v['stages']:
            v['stages'].remove(stage)
    versions[to]['stages'].append(stage)


class _SecretsManager:
    exceptions = _Exceptions

    def describe_secret(self, SecretId):
        s = _load()['secrets'][SecretId]
        return {'RotationEnabled': s.get('rotation', False), 'VersionIdsToStages': {k: list(v['stages']) for k, v in s['versions'].items()}}

    def get_secret_value(self, SecretId, VersionStage='AWSCURRENT', VersionId=None):
        versions = _load()['secrets'][SecretId]['versions']
        if VersionId is not None:
            v = versions.get(VersionId)
            if v is None or v['value'] is None or VersionStage not in v['stages']:
                raise ResourceNotFoundException(VersionId)
        else:
            v = next((v for v in versions.values() if VersionStage in v['stages'] and v['value'] is not None), None)
            if v is None:
                raise ResourceNotFoundException(VersionStage)
        return {'SecretString': v['value']}

    def put_secret_value(self, SecretId, ClientRequestToken, SecretString, VersionStages):
        state = _load()
        versions = state['secrets'][SecretId]['versions']
        versions.setdefault(ClientRequestToken, {'stages': [], 'value': None})['value'] = SecretString
        for stage in VersionStages:
            if stage not in versions[ClientRequestToken]['stages']:
                _move(versions, stage, ClientRequestToken)
        _save(state)
        return {'VersionId': ClientRequestToken}

    def update_secret_version_stage(self, SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId=None):
        state = _load()
        versions = state['secrets'][SecretId]['versions']
        if RemoveFromVersionId and VersionStage not in versions[RemoveFromVersionId]['stages']:
            raise ValueError('%s is not on %s' % (VersionStage, RemoveFromVersionId))
        _move(versions, VersionStage, MoveToVersionId)
        if VersionStage == 'AWSCURRENT' and RemoveFromVersionId:
            _move(versions, 'AWSPREVIOUS', RemoveFromVersionId)
        if VersionStage == 'AWSCURRENT' and 'AWSPENDING' in versions[MoveToVersionId]['stages']:
            versions[MoveToVersionId]['stages'].remove('AWSPENDING')
        _save(state)

    def get_random_password(self, PasswordLength, ExcludeCharacters=''):
        alphabet = [c for c in string.ascii_letters + string.digits + string.punctuation if c not in ExcludeCharacters]
        return {'RandomPassword': ''.join(secrets.choice(alphabet) for _ in range(PasswordLength))}


class _Ecs:
    def update_service(self, cluster, service, forceNewDeployment=False):
        state = _load()
        state.setdefault('redeploys', []).append([cluster, service, forceNewDeployment])
        _save(state)


def client(name, **kwargs):
    return {'secretsmanager': _SecretsManager, 'ecs': _Ecs}[name]()
