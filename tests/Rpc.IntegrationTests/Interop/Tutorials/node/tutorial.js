// The RabbitMQ tutorials' work queue, topic and RPC programs in one file, on amqplib (see ../README.md).
'use strict';
const amqp = require('amqplib');
const crypto = require('crypto');
const readline = require('readline');

function fib(n) {
  let a = 0, b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const say = (line) => process.stdout.write(line + '\n');

async function connect(uri) {
  const connection = await amqp.connect(uri);
  return [connection, await connection.createChannel()];
}

// Resolves after `count` messages; the handler returns nothing.
function counting(count, handle) {
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  let left = count;
  return [done, (message) => { handle(message); if (--left === 0) resolve(); }];
}

async function newTask(uri, queue, ...messages) {
  const [connection, channel] = await connect(uri);
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  for (const message of messages) channel.sendToQueue(queue, Buffer.from(message), { persistent: true });
  say(`sent ${messages.length}`);
  await channel.close();
  await connection.close();
}

async function worker(uri, queue, count) {
  const [connection, channel] = await connect(uri);
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.prefetch(1);
  const [done, handle] = counting(Number(count), (message) => {
    say('received ' + message.content.toString());
    channel.ack(message);
  });
  await channel.consume(queue, handle, { noAck: false });
  say('ready');
  await done;
  await channel.close();
  await connection.close();
}

async function emitLogTopic(uri, exchange, ...messages) {
  const [connection, channel] = await connect(uri);
  await channel.assertExchange(exchange, 'topic', { durable: false });
  say('declared');
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));
  for (const keyed of messages) {
    const at = keyed.indexOf('=');
    channel.publish(exchange, keyed.slice(0, at), Buffer.from(keyed.slice(at + 1)));
  }
  say(`sent ${messages.length}`);
  await channel.close();
  await connection.close();
}

async function receiveLogsTopic(uri, exchange, count, ...keys) {
  const [connection, channel] = await connect(uri);
  await channel.assertExchange(exchange, 'topic', { durable: false });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  for (const key of keys) await channel.bindQueue(queue, exchange, key);
  const [done, handle] = counting(Number(count),
    (message) => say(`received ${message.fields.routingKey}:${message.content.toString()}`));
  await channel.consume(queue, handle, { noAck: true });
  say('ready');
  await done;
  await channel.close();
  await connection.close();
}

async function rpcServer(uri, queue, count) {
  const [connection, channel] = await connect(uri);
  await channel.assertQueue(queue, { durable: false });
  await channel.prefetch(1);
  const [done, handle] = counting(Number(count), (message) => {
    const answer = fib(parseInt(message.content.toString(), 10)).toString();
    channel.sendToQueue(message.properties.replyTo, Buffer.from(answer), { correlationId: message.properties.correlationId });
    channel.ack(message);
  });
  await channel.consume(queue, handle);
  say('ready');
  await done;
  await channel.close();
  await connection.close();
}

async function rpcClient(uri, queue, ...numbers) {
  const [connection, channel] = await connect(uri);
  const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true });
  const waiting = new Map();
  await channel.consume(replyQueue, (message) => {
    const resolve = waiting.get(message.properties.correlationId);
    if (resolve) resolve(message.content.toString());
  }, { noAck: true });
  for (const n of numbers) {
    const correlationId = crypto.randomUUID();
    const reply = new Promise((resolve) => waiting.set(correlationId, resolve));
    channel.sendToQueue(queue, Buffer.from(n), { correlationId, replyTo: replyQueue });
    say(`fib(${n})=${await reply}`);
    waiting.delete(correlationId);
  }
  await channel.close();
  await connection.close();
}

const roles = {
  new_task: newTask, worker, emit_log_topic: emitLogTopic, receive_logs_topic: receiveLogsTopic,
  rpc_server: rpcServer, rpc_client: rpcClient,
};

roles[process.argv[2]](...process.argv.slice(3)).then(
  () => process.exit(0),
  (error) => { process.stderr.write(String(error && error.stack || error) + '\n'); process.exit(1); });
