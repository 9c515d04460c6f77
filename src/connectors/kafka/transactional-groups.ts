/** What a transactional sink needs to know about a kafka source of the same process. */
export interface GroupMember {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Set by an exactly-once sink: offsets move only inside its transactions. */
  transactional: boolean;
}

/**
 * The kafka sources of this process, so an exactly-once sink can find the consumer group whose
 * offsets it commits in its transactions and tell that source to leave its offsets alone.
 * Sources are created before sinks are opened, and sinks are opened before any read starts.
 */
class TransactionalGroups {
  private readonly members = new Set<GroupMember>();

  add(member: GroupMember): void {
    this.members.add(member);
  }

  remove(member: GroupMember): void {
    this.members.delete(member);
  }

  /** Marks the sources of `groupId` (or every kafka source when none is named) transactional. */
  claim(groupId: string | undefined): GroupMember[] {
    const claimed = [...this.members].filter((m) => groupId === undefined || m.groupId === groupId);
    for (const member of claimed) member.transactional = true;
    return claimed;
  }

  /** The group of the transactional source reading `topic`, if any. */
  groupOf(topic: string): string | undefined {
    for (const member of this.members) if (member.transactional && member.topics.includes(topic)) return member.groupId;
    return undefined;
  }
}

export const transactionalGroups = new TransactionalGroups();
