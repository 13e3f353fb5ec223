/**
 * `npm run serve`: the inbound endpoints on 127.0.0.1 (README "Serve the inbound endpoints
 * locally"), with the environment of `npm run replay`: each endpoint not set is an embedded
 * emulator, and a replay pointed at the same DynamoDB shares the ledger.
 *
 *   POST /backlog/webhook/<BACKLOG_WEBHOOK_TOKEN>   Backlog's outgoing webhook (JSON body)
 *   POST /slack/actions                              Slack's interactivity requests (form body
 *                                                    `payload=…`, signed with SLACK_SIGNING_SECRET)
 */
import { pathToFileURL } from 'node:url';
import { MIN_TOKEN_LENGTH } from '../app/accept-backlog-webhook.js';
import { startServe } from '../local/server.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const generated = !env.BACKLOG_WEBHOOK_TOKEN;
  const generatedSecret = !env.SLACK_SIGNING_SECRET;
  const serve = await startServe({ env });
  const { sandbox } = serve;
  const endpoints = {
    Slack: sandbox.slack ? `${sandbox.env.SLACK_API_URL} (embedded)` : sandbox.env.SLACK_API_URL,
    Backlog: sandbox.backlog ? `${sandbox.env.BACKLOG_API_URL} (embedded)` : sandbox.env.BACKLOG_API_URL,
    'Security Hub': sandbox.securityHub
      ? `${sandbox.env.AWS_ENDPOINT_URL_SECURITYHUB} (embedded)`
      : sandbox.env.AWS_ENDPOINT_URL_SECURITYHUB,
    DynamoDB: `${sandbox.env.AWS_ENDPOINT_URL_DYNAMODB}, table ${sandbox.env.LEDGER_TABLE}`,
  };
  for (const [name, where] of Object.entries(endpoints)) console.log(`${name}: ${where}`);
  const token = sandbox.env.BACKLOG_WEBHOOK_TOKEN ?? '';
  if (token.length < MIN_TOKEN_LENGTH) {
    console.log(
      `warning: BACKLOG_WEBHOOK_TOKEN is shorter than ${MIN_TOKEN_LENGTH} characters: every webhook is refused`,
    );
  }
  console.log(
    `Backlog webhook: POST ${serve.backlogWebhookUrl}${generated ? ' (token made up: set BACKLOG_WEBHOOK_TOKEN to choose it)' : ''}`,
  );
  console.log(
    `Slack actions: POST ${serve.slackActionsUrl}${generatedSecret ? ` (signing secret made up: ${sandbox.env.SLACK_SIGNING_SECRET}; set SLACK_SIGNING_SECRET to your Slack app's)` : ''}`,
  );
  console.log(`listening on ${serve.url}`);
  const stop = () => {
    serve.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(`serve failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
