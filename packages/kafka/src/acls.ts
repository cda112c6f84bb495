/**
 * Writing the ACL table ({@link USER_ACCESS}) to a cluster as its admin (scripts/kafka.sh start
 * --secure does), and reading a user's ACLs back.
 */
import kafkajs, { type Kafka } from 'kafkajs';
import { KAFKA_USERS, aclsFor, type AclEntry, type KafkaUser } from './access.js';
import type { KafkaConfig } from './config.js';

/** The Kafka user name of a service's user (the same as its Strimzi KafkaUser's name). */
export function kafkaUserName(user: KafkaUser): string {
  return `emostream-${user}`;
}

// kafkajs is CommonJS: these enums are not named exports Node's ESM loader can see.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const RESOURCE = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP, transactionalId: AclResourceTypes.TRANSACTIONAL_ID } as const;
const PATTERN = { literal: ResourcePatternTypes.LITERAL, prefixed: ResourcePatternTypes.PREFIXED } as const;
const OPERATION = { Read: AclOperationTypes.READ, Write: AclOperationTypes.WRITE, Describe: AclOperationTypes.DESCRIBE, Delete: AclOperationTypes.DELETE } as const;

/** Creates every user's ACLs for a deployment's naming (idempotent: an existing ACL stays as it is). */
export async function createUserAcls(kafka: Kafka, naming: Pick<KafkaConfig, 'topicPrefix' | 'groupPrefix'>, users: readonly KafkaUser[] = KAFKA_USERS): Promise<number> {
  const acl = users.flatMap((u) => aclsFor(u, naming).map((e: AclEntry) => ({
    resourceType: RESOURCE[e.resourceType], resourceName: e.name, resourcePatternType: PATTERN[e.patternType],
    principal: `User:${kafkaUserName(u)}`, host: '*', operation: OPERATION[e.operation], permissionType: AclPermissionTypes.ALLOW,
  })));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
    // The controller has them; wait until the broker's authorizer (what describeAcls reads) does too,
    // so a client started next is not refused.
    for (const t0 = Date.now(); ;) {
      const seen = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY,
      });
      const have = new Set(seen.resources.flatMap((r) => r.acls.map((a) => `${r.resourceType}|${r.resourceName}|${r.resourcePatternType}|${a.principal}|${a.operation}`)));
      if (acl.every((a) => have.has(`${a.resourceType}|${a.resourceName}|${a.resourcePatternType}|${a.principal}|${a.operation}`))) break;
      if (Date.now() - t0 > 30_000) throw new Error('the broker did not apply the new ACLs within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  return acl.length;
}
