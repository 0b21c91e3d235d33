/**
 * The `rosapi` services a roslibjs UI calls for the graph (`ros.getTopics()`, `getTopicType()`,
 * `getServices()`, `getParams()`, `Param.get()`…), answered from the endpoint's mapping, the
 * services its clients advertised, and a parameter store of its own.
 *
 * @module
 */
import type { Role } from '@telekit/core/safety';
import { RosMessages } from '@telekit/transport-ros';

const { msToTime } = RosMessages;

/** What `rosapi` knows of the graph. */
export interface Graph {
  /** Topics and their types, as this role may see them. */
  topics(role: Role): { topics: string[]; types: string[] };
  /** Services and their types. */
  services(): { services: string[]; types: string[] };
  publishers(topic: string): string[];
  subscribers(topic: string): string[];
  readonly params: Map<string, string>;
  now(): number;
}

/** An answer: the values, or why it failed (a `result: false` response). */
export type ServiceAnswer = { ok: true; values: unknown } | { ok: false; error: string };

type RosapiService = {
  readonly type: string;
  /** Changes the graph (setting a parameter): not for viewers. */
  readonly writes?: boolean;
  call(graph: Graph, args: Record<string, unknown>, role: Role): ServiceAnswer;
};

const str = (args: Record<string, unknown>, key: string): string | undefined =>
  typeof args[key] === 'string' ? (args[key] as string) : undefined;
const need = (key: string): ServiceAnswer => ({ ok: false, error: `args.${key}: expected a string` });
const paramName = (n: string) => n.replace(/^\/+/, '');

/** The rosapi services, by name: one table, from which `/rosapi/services` lists them too. */
export const ROSAPI: Readonly<Record<string, RosapiService>> = {
  '/rosapi/topics': {
    type: 'rosapi_msgs/srv/Topics',
    call: (g, _a, role) => ({ ok: true, values: g.topics(role) }),
  },
  '/rosapi/topics_and_raw_types': {
    type: 'rosapi_msgs/srv/TopicsAndRawTypes',
    call: (g, _a, role) => {
      const t = g.topics(role);
      return { ok: true, values: { ...t, typedefs_full_text: t.types.map(() => '') } };
    },
  },
  '/rosapi/topics_for_type': {
    type: 'rosapi_msgs/srv/TopicsForType',
    call: (g, a, role) => {
      const type = str(a, 'type');
      if (type === undefined) return need('type');
      const t = g.topics(role);
      const plain = (s: string) => s.replace('/msg/', '/');
      return {
        ok: true,
        values: { topics: t.topics.filter((_, i) => plain(t.types[i] ?? '') === plain(type)) },
      };
    },
  },
  '/rosapi/topic_type': {
    type: 'rosapi_msgs/srv/TopicType',
    call: (g, a, role) => {
      const topic = str(a, 'topic');
      if (topic === undefined) return need('topic');
      const t = g.topics(role);
      const name = `/${topic.replace(/^\/+/, '')}`;
      return { ok: true, values: { type: t.types[t.topics.indexOf(name)] ?? '' } };
    },
  },
  '/rosapi/services': {
    type: 'rosapi_msgs/srv/Services',
    call: (g) => ({ ok: true, values: { services: g.services().services } }),
  },
  '/rosapi/service_type': {
    type: 'rosapi_msgs/srv/ServiceType',
    call: (g, a) => {
      const service = str(a, 'service');
      if (service === undefined) return need('service');
      const s = g.services();
      return {
        ok: true,
        values: { type: s.types[s.services.indexOf(`/${service.replace(/^\/+/, '')}`)] ?? '' },
      };
    },
  },
  '/rosapi/nodes': {
    type: 'rosapi_msgs/srv/Nodes',
    call: () => ({ ok: true, values: { nodes: ['/telekit_gateway'] } }),
  },
  '/rosapi/node_details': {
    type: 'rosapi_msgs/srv/NodeDetails',
    call: (g, _a, role) => ({
      ok: true,
      values: { subscribing: [], publishing: g.topics(role).topics, services: g.services().services },
    }),
  },
  '/rosapi/publishers': {
    type: 'rosapi_msgs/srv/Publishers',
    call: (g, a) => {
      const topic = str(a, 'topic');
      return topic === undefined ? need('topic') : { ok: true, values: { publishers: g.publishers(topic) } };
    },
  },
  '/rosapi/subscribers': {
    type: 'rosapi_msgs/srv/Subscribers',
    call: (g, a) => {
      const topic = str(a, 'topic');
      return topic === undefined
        ? need('topic')
        : { ok: true, values: { subscribers: g.subscribers(topic) } };
    },
  },
  '/rosapi/get_time': {
    type: 'rosapi_msgs/srv/GetTime',
    call: (g) => ({ ok: true, values: { time: msToTime(g.now()) } }),
  },
  '/rosapi/get_param_names': {
    type: 'rosapi_msgs/srv/GetParamNames',
    call: (g) => ({ ok: true, values: { names: [...g.params.keys()].map((n) => `/${n}`) } }),
  },
  '/rosapi/has_param': {
    type: 'rosapi_msgs/srv/HasParam',
    call: (g, a) => {
      const name = str(a, 'name');
      return name === undefined
        ? need('name')
        : { ok: true, values: { exists: g.params.has(paramName(name)) } };
    },
  },
  '/rosapi/get_param': {
    type: 'rosapi_msgs/srv/GetParam',
    call: (g, a) => {
      const name = str(a, 'name');
      if (name === undefined) return need('name');
      // Values travel as JSON text, as rosapi's do; an absent one is the caller's default.
      const value = g.params.get(paramName(name));
      return {
        ok: true,
        values: { value: value ?? str(a, 'default') ?? '', successful: value !== undefined },
      };
    },
  },
  '/rosapi/set_param': {
    type: 'rosapi_msgs/srv/SetParam',
    writes: true,
    call: (g, a) => {
      const name = str(a, 'name');
      const value = str(a, 'value');
      if (name === undefined) return need('name');
      if (value === undefined) return need('value');
      if (g.params.size >= 1024 && !g.params.has(paramName(name)))
        return { ok: false, error: 'too many parameters: at most 1024' };
      if (value.length > 65_536) return { ok: false, error: 'args.value: longer than 65536 characters' };
      g.params.set(paramName(name), value);
      return { ok: true, values: {} };
    },
  },
  '/rosapi/delete_param': {
    type: 'rosapi_msgs/srv/DeleteParam',
    writes: true,
    call: (g, a) => {
      const name = str(a, 'name');
      if (name === undefined) return need('name');
      g.params.delete(paramName(name));
      return { ok: true, values: {} };
    },
  },
};
