/**
 * How many answers each member has been chosen for since the node started, summed over
 * every worker and never reset by a reload: by member key (`service pool/member`). The
 * metrics module counts them; the operator interface turns them into shares over a window
 * (the difference between two readings), so that neither knows how the other is built.
 */
export type DecisionTotals = () => ReadonlyMap<string, number>;
