import { Type } from '@sinclair/typebox';
import { definePolicy } from '../types.js';

/** Ordered failover: the candidates in configuration order, so the first eligible answers. */
export const first = definePolicy({
  name: 'first',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    name: 'first',
    role: 'select',
    apply: (candidates) => ({ candidates }),
  }),
});
