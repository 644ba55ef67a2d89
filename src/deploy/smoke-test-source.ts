/**
 * The ECS deployment lifecycle hook behind `deployment.smokeTest`, as inline CommonJS source
 * (`index.handler`). ECS invokes it at POST_TEST_TRAFFIC_SHIFT, when the test listener already sends
 * everything to the new revision and production traffic has not moved. It GETs the path through the
 * test listener until `SUCCESSES` answers in a row have `EXPECTED_STATUS`, and returns the hook contract's
 * `{ hookStatus: 'SUCCEEDED' }`; when the time is up it returns `{ hookStatus: 'FAILED' }` and ECS rolls
 * the deployment back. Errors are caught: a thrown error would roll back too, but without the reason.
 *
 * The load balancer is internet-facing, so its DNS name resolves to public addresses, reached from a
 * VPC only through NAT and arriving from the NAT's address. The function runs in the VPC and asks the
 * load balancer's nodes on their private addresses (its network interfaces, `ELB app/<name>/<id>`), so
 * the test port admits only the function's security group. The AWS SDK v3 ships with the runtime.
 *
 * The source avoids template literals so it can live inside this TypeScript template string.
 */
export const SMOKE_TEST_HANDLER_SOURCE = `'use strict';
const http = require('http');
const https = require('https');
const { EC2Client, DescribeNetworkInterfacesCommand } = require('@aws-sdk/client-ec2');

const env = process.env;
const PAUSE_MS = Number(env.PAUSE_MS || '5000');
const REQUEST_TIMEOUT_MS = Number(env.REQUEST_TIMEOUT_MS || '5000');

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

/** The private addresses of the load balancer's nodes. */
async function addresses() {
  const out = await new EC2Client({}).send(new DescribeNetworkInterfacesCommand({
    Filters: [{ Name: 'description', Values: ['ELB ' + env.LOAD_BALANCER_FULL_NAME] }],
  }));
  return (out.NetworkInterfaces || []).map(function (n) { return n.PrivateIpAddress; }).filter(Boolean);
}

/** One GET: resolves to { status } or { error }, never rejects. */
function get(address) {
  return new Promise(function (resolve) {
    const secure = env.PROTOCOL === 'HTTPS';
    const options = {
      host: address,
      port: Number(env.PORT),
      path: env.SMOKE_PATH,
      method: 'GET',
      headers: { Host: env.HOST, 'User-Agent': 'cdk-django-smoke-test' },
      timeout: REQUEST_TIMEOUT_MS,
    };
    // The certificate is checked against the site's name, not the node's address.
    if (secure) options.servername = env.HOST;
    const req = (secure ? https : http).request(options, function (res) {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on('timeout', function () { req.destroy(new Error('no answer within ' + REQUEST_TIMEOUT_MS + ' ms')); });
    req.on('error', function (e) { resolve({ error: e.message }); });
    req.end();
  });
}

exports.handler = async function (event) {
  const expected = Number(env.EXPECTED_STATUS);
  const needed = Number(env.SUCCESSES);
  const deadline = Date.now() + Number(env.TIMEOUT_SECONDS) * 1000;
  const target = (event && event.executionDetails && event.executionDetails.targetServiceRevisionArn) || (event && event.targetServiceRevisionArn);
  let streak = 0;
  let last = 'nothing asked yet';
  for (let attempt = 0; ; attempt++) {
    let answer;
    try {
      const ips = await addresses();
      answer = ips.length === 0 ? { error: 'no network interface of ' + env.LOAD_BALANCER_FULL_NAME } : await get(ips[attempt % ips.length]);
    } catch (e) {
      answer = { error: String(e && e.message) };
    }
    if (answer.status === expected) {
      streak++;
      if (streak >= needed) {
        console.log(JSON.stringify({ hookStatus: 'SUCCEEDED', target: target, attempts: attempt + 1 }));
        return { hookStatus: 'SUCCEEDED' };
      }
    } else {
      streak = 0;
      last = answer.error ? answer.error : 'status ' + answer.status + ', expected ' + expected;
    }
    const pause = streak > 0 ? Math.min(PAUSE_MS, 1000) : PAUSE_MS;
    if (Date.now() + pause >= deadline) {
      console.log(JSON.stringify({ hookStatus: 'FAILED', target: target, attempts: attempt + 1, last: last,
        url: env.PROTOCOL.toLowerCase() + '://' + env.HOST + ':' + env.PORT + env.SMOKE_PATH }));
      return { hookStatus: 'FAILED' };
    }
    await sleep(pause);
  }
};
`;
