/**
 * The custom resource handlers of the AUTH token (inline Python, boto3 only).
 * `version`: Create and Update write a random token as the version whose id is derived from the stack,
 * the logical id and the generation (reused if it exists); Delete leaves the secret alone.
 * `retire`: an Update that changed the version sets the token with ElastiCache's SET strategy, dropping
 * the previous one (Create has no previous token; a rollback returns to a token that still works).
 */
export const TOKEN_SOURCE = String.raw`import json, urllib.request, uuid

import boto3


def version(event, context):
    def run(props):
        sm = boto3.client('secretsmanager')
        arn = props['SecretArn']
        vid = str(uuid.uuid5(uuid.NAMESPACE_URL, '%s/%s/%s' % (event['StackId'], event['LogicalResourceId'], props['Generation'])))
        try:
            sm.get_secret_value(SecretId=arn, VersionId=vid)
        except sm.exceptions.ResourceNotFoundException:
            token = sm.get_random_password(PasswordLength=64, ExcludePunctuation=True, IncludeSpace=False)['RandomPassword']
            sm.put_secret_value(SecretId=arn, ClientRequestToken=vid, SecretString=token)
        return vid, {'VersionId': vid}
    respond(event, context, run)


def retire(event, context):
    def run(props):
        old = event.get('OldResourceProperties') or {}
        if event['RequestType'] == 'Update' and old.get('VersionId') not in (None, props['VersionId']):
            token = boto3.client('secretsmanager').get_secret_value(SecretId=props['SecretArn'], VersionId=props['VersionId'])['SecretString']
            boto3.client('elasticache').modify_replication_group(
                ReplicationGroupId=props['ReplicationGroupId'], AuthToken=token, AuthTokenUpdateStrategy='SET', ApplyImmediately=True)
        return 'retire-' + props['ReplicationGroupId'], {}
    respond(event, context, run)


def respond(event, context, run):
    status, reason, physical, data = 'SUCCESS', '', event.get('PhysicalResourceId', 'none'), {}
    try:
        if event['RequestType'] in ('Create', 'Update'):
            physical, data = run(event['ResourceProperties'])
    except Exception as e:  # reported to CloudFormation, which otherwise waits an hour
        status, reason = 'FAILED', ('%s: %s' % (type(e).__name__, e))[:1000]
    body = json.dumps({
        'Status': status, 'Reason': reason or 'see the function log', 'PhysicalResourceId': physical, 'Data': data,
        'StackId': event['StackId'], 'RequestId': event['RequestId'], 'LogicalResourceId': event['LogicalResourceId'],
    }).encode()
    urllib.request.urlopen(urllib.request.Request(event['ResponseURL'], data=body, method='PUT', headers={'Content-Type': ''}), timeout=30).read()
`;
