'use strict';
/**
 * Serverless Framework variable resolver: the IAM statements that let a function read its one
 * secret, for whatever the stage configures as that secret (src/adapters/secrets.ts reads both):
 *
 *   ${file(./deploy/secret-access.cjs):slackToken}      for the slackTokenParameter stage param
 *   ${file(./deploy/secret-access.cjs):backlogApiKey}   for the backlogApiKeyParameter stage param
 *   ${file(./deploy/secret-access.cjs):backlogWebhookToken}   for the backlogWebhookTokenParameter stage param
 *   ${file(./deploy/secret-access.cjs):slackSigningSecret}   for the slackSigningSecretParameter stage param
 *
 * An SSM parameter name (`/securityhub-notifier/prod/slack-bot-token`) or an SSM parameter ARN:
 *   ssm:GetParameter on that parameter, and kms:Decrypt only through SSM (kms:ViaService) and only
 *   for that parameter (SSM puts the parameter's ARN in the encryption context, PARAMETER_ARN). The
 *   key id of alias/aws/ssm is not known before deploy: the key is matched by that context, not by id.
 * A Secrets Manager ARN (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf`):
 *   secretsmanager:GetSecretValue on that secret, and kms:Decrypt only through Secrets Manager in
 *   the secret's region and only for that secret (Secrets Manager puts the secret's ARN in the
 *   encryption context, SecretARN).
 *
 * Anything else fails the resolution (and so `serverless package` / `deploy`) naming the param.
 * osls calls an exported function with `{ options, resolveConfigurationProperty, resolveVariable }`
 * and awaits it.
 */

const PARAMS = {
  slackToken: { param: 'slackTokenParameter', label: 'SlackToken' },
  backlogApiKey: { param: 'backlogApiKeyParameter', label: 'BacklogApiKey' },
  backlogWebhookToken: { param: 'backlogWebhookTokenParameter', label: 'BacklogWebhookToken' },
  slackSigningSecret: { param: 'slackSigningSecretParameter', label: 'SlackSigningSecret' },
};

/** SSM parameter names: letters, digits, `_ . - /` (hierarchies start with `/`). */
const SSM_NAME = /^[A-Za-z0-9_.\-/]+$/;
const SSM_ARN = /^arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):parameter\/[A-Za-z0-9_.\-/]+$/;
/**
 * Only `arn:aws:secretsmanager:` goes to Secrets Manager in src/adapters/secrets.ts (anything else is
 * read from SSM), so only that form is accepted here. Secret names: letters, digits, `/ _ + = . @ -`.
 */
const SECRET_ARN = /^arn:aws:secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]+)$/;
/** The six random characters (after a hyphen) Secrets Manager appends to a secret's name in its ARN. */
const SECRET_SUFFIX = /-[A-Za-z0-9]{6}$/;

function fail(param, message) {
  const error = new Error(`${param}: ${message}`);
  // osls prints the stack of a resolver's error: keep it to the message.
  error.stack = error.message;
  return error;
}

function ssmStatements(label, resource, context, viaService, keyArn) {
  return [
    { Sid: `Read${label}`, Effect: 'Allow', Action: 'ssm:GetParameter', Resource: resource },
    {
      Sid: `Decrypt${label}`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: keyArn,
      Condition: {
        StringEquals: { 'kms:ViaService': viaService, 'kms:EncryptionContext:PARAMETER_ARN': context },
      },
    },
  ];
}

function secretsManagerStatements(label, param, arn) {
  const [, region, account, name] = SECRET_ARN.exec(arn) ?? [];
  if (!name) throw fail(param, `not a Secrets Manager secret ARN: ${arn}`);
  // IAM matches GetSecretValue against the secret's full ARN, whose name ends in a hyphen and six
  // random characters Secrets Manager added when it created the secret. An ARN given with that
  // suffix is matched exactly. One given without it (a partial ARN, which GetSecretValue accepts)
  // gets `-??????`: exactly six more characters, so it never matches another secret whose name
  // merely begins the same (`shn/slack-old-AbCdEf`), as `*` would. A name that itself ends in a
  // hyphen and six letters or digits cannot be told from a full ARN: the exact ARN is then allowed
  // and the read is denied at run time (fail closed): give the full ARN from the console.
  const complete = SECRET_SUFFIX.test(name);
  const resource = complete ? arn : `${arn}-??????`;
  return [
    { Sid: `Read${label}`, Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource },
    {
      Sid: `Decrypt${label}`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      // The secret's key: aws/secretsmanager or a customer managed key of the secret's account.
      Resource: `arn:aws:kms:${region}:${account}:key/*`,
      Condition: {
        StringEquals: {
          'kms:ViaService': `secretsmanager.${region}.amazonaws.com`,
          ...(complete ? { 'kms:EncryptionContext:SecretARN': arn } : {}),
        },
        ...(complete ? {} : { StringLike: { 'kms:EncryptionContext:SecretARN': resource } }),
      },
    },
  ];
}

/** The statements for one configured secret (`value`, the param's value). */
function secretAccessStatements(name, value) {
  const { param, label } = PARAMS[name];
  const source = typeof value === 'string' ? value.trim() : '';
  if (source === '') throw fail(param, 'required: an SSM parameter name or a Secrets Manager secret ARN');
  if (source.startsWith('arn:aws:secretsmanager:')) return secretsManagerStatements(label, param, source);
  const ssmArn = SSM_ARN.exec(source);
  if (ssmArn) {
    const [, partition, region, account] = ssmArn;
    return ssmStatements(
      label,
      source,
      source,
      `ssm.${region}.amazonaws.com`,
      `arn:${partition}:kms:${region}:${account}:key/*`,
    );
  }
  if (source.startsWith('arn:')) {
    throw fail(
      param,
      `${source} is neither an SSM parameter nor an arn:aws:secretsmanager: secret ARN (the only ARNs the functions read)`,
    );
  }
  if (!SSM_NAME.test(source)) throw fail(param, `not an SSM parameter name: ${source}`);
  const path = source.startsWith('/') ? source : `/${source}`;
  const parameterArn = {
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${path}`,
  };
  return ssmStatements(
    label,
    parameterArn,
    parameterArn,
    { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
    { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
  );
}

async function resolve(name, resolveVariable) {
  return secretAccessStatements(name, await resolveVariable(`param:${PARAMS[name].param}`));
}

module.exports = {
  slackToken: async ({ resolveVariable }) => resolve('slackToken', resolveVariable),
  backlogApiKey: async ({ resolveVariable }) => resolve('backlogApiKey', resolveVariable),
  backlogWebhookToken: async ({ resolveVariable }) => resolve('backlogWebhookToken', resolveVariable),
  slackSigningSecret: async ({ resolveVariable }) => resolve('slackSigningSecret', resolveVariable),
  secretAccessStatements,
};
