/**
 * @emostream/kafka: the one module that imports kafkajs. Config from env (KAFKA_*, and the
 * settings every service shares, EMOSTREAM_*), topic creation, the
 * binary codecs of every message, the stage runner (eachBatch, commit after produce, DLQ), and
 * reading compacted state.
 */
export {
  KafkaConnectionSchema, KafkaConfigSchema, KafkaConfigError, KAFKA_PREFIX, KAFKA_OTHER_NAMES, parseKafkaConfig, kafkaConnectionFromEnv, kafkaConfigOf,
  kafkaConfigFromEnv, groupIdFor, type KafkaConnection, type KafkaConfig, type KafkaConfigInput,
} from './config.js';
export {
  SharedSettingsSchema, SHARED_PREFIX, SHARED_OTHER_NAMES, sharedSettingsFromEnv, shedOptionsOf, shedOptionsFromEnv,
  type SharedSettings, type SharedSettingsInput,
} from './settings.js';
export { BROKER_WAIT, brokerAway, brokerMayAppear, createKafka, kafkaJsOptions, probeKafka, waitForBroker, type BrokerWaitOptions } from './client.js';
export { BrokerLink, brokerDownReason, brokerLinkOf } from './link.js';
export { ensureTopics, isAuthorizationError, pipelineTopics, pipelineTopicSpecs, type TopicSpec, type PipelineTopics } from './topics.js';
export {
  KAFKA_USERS, USER_ACCESS, aclsFor, allTopicNames, topicNameOf, userOfService, userTopicSpecs, type AclEntry, type KafkaUser, type TopicName, type UserAccess,
} from './access.js';
export { createUserAcls, kafkaUserName } from './acls.js';
export { HEADER, header, type OutMessage, type InMessage, type Decoded, type DecodeReason } from './codec/message.js';
export { packEnvelope, unpackEnvelope, ENVELOPE_KIND } from './codec/envelope.js';
export { encodeFrame, decodeFrame, decodeFrameRgb, toJpegFrame, DEFAULT_JPEG_QUALITY, isLiveFrame, type JpegFrame } from './codec/frames.js';
export { encodeFaces, decodeFaces, CROP_BYTES } from './codec/faces.js';
export { encodeEmotions, decodeEmotions, encodeEvent, decodeEvent } from './codec/json.js';
export { encodeControl, decodeControl, type ControlMessage, type BadControl } from './codec/control.js';
export { SEND_RETRY, createProducer, sendCapped, partitionForKey, type SendOptions, type TopicMessages } from './producer.js';
export { deadLetter, rejection, isRejection, type DeadLetterInfo, type Rejection } from './dlq.js';
export { StageError } from './errors.js';
export { runStage, type StageSpec, type RunningStage, type StageStats, type Correlation, type TransactionalOptions } from './runStage.js';
export { FairShedder, DEFAULT_SHED, type ShedOptions, type ShedVerdict } from './shed.js';
export { readCompacted, type ReadCompactedOptions } from './compacted.js';
export { lagOf, startLagMonitor, DEFAULT_LAG_INTERVAL_MS, type LagMonitor, type LagMonitorOptions } from './lag.js';
/** kafkajs types the services need (they never import kafkajs themselves). */
export type { Kafka, Consumer, Producer, KafkaMessage, EachMessagePayload } from 'kafkajs';
