/** The stage under test for the runStage tests: test inputs/outputs, runStage over the fakes. */
import { delay, mergeMap, of, type OperatorFunction } from 'rxjs';
import { fail, type Decoded, type InMessage, type OutMessage } from '../codec/message.js';
import { runStage, type Correlation, type StageSpec, type TransactionalOptions } from '../runStage.js';
import { FakeKafka, recordingLogger } from './fakes.js';

/** Inputs are `cam/n/ms` values (`bad` is malformed); an output's text names its input. */
export interface In { cam: string; n: number; ms: number }
export interface Out { cam: string; text: string }
export const decode = (m: InMessage): Decoded<In> => {
  const v = m.value!.toString();
  if (v === 'bad') return fail('malformed', 'bad value');
  const [cam, n, ms] = v.split('/');
  return { ok: true, value: { cam, n: Number(n), ms: Number(ms ?? 0) } };
};
export const encode = (o: Out): OutMessage => ({ key: o.cam, value: Buffer.from(o.text), headers: {} });
/** One output per input, after `ms`. */
export const delayed: OperatorFunction<In, Out> = mergeMap((i) => of({ cam: i.cam, text: `out${i.n}` }).pipe(delay(i.ms)));
export const keyedBy: Correlation<In, Out> = { mode: 'keyed', inputKey: (i) => `${i.cam}/${i.n}`, outputKey: (o) => `${o.cam}/${o.text.slice(3)}` };

export async function start(over: Partial<StageSpec<In, Out>> = {}) {
  const kafka = new FakeKafka();
  const log = recordingLogger();
  const stage = await runStage<In, Out>({
    stage: 'test', kafka: kafka.asKafka, config: { maxBytesPerSend: 1_000_000, sessionTimeoutMs: 30_000 },
    inputTopic: 'in', groupId: 'grp', outputTopic: 'out', dlqTopic: 'out.dlq',
    decode, encode, operator: delayed, correlation: { mode: 'each' }, logger: log, ...over,
  });
  const consumer = kafka.theConsumer;
  return { kafka, log, stage, consumer };
}

/** Every message sent by a producer, as `topic:key:value`. */
export const sentBy = (kafka: FakeKafka, i = 0) => kafka.producers[i].sent.flatMap((s) => s.topicMessages.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}:${m.value.toString()}`)));

/** Transactional options over a counter state: checkpoint, rollback and extra recorded in `events`. */
export function txSpec(over: Partial<TransactionalOptions<In>> = {}) {
  const events: string[] = [];
  let state = 0;
  const transactional: TransactionalOptions<In> = {
    transactionalId: 'agg-tx',
    checkpoint: () => { events.push(`checkpoint ${state}`); return state; },
    rollback: (c) => { events.push(`rollback ${String(c)}`); state = c as number; },
    extra: (inputs) => { state += inputs.length; return [{ topic: 'state', messages: [{ key: 's', value: Buffer.from(String(state)), headers: {} }] }]; },
    ...over,
  };
  return { events, transactional, state: () => state };
}
