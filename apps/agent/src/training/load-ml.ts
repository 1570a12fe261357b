/**
 * libs/ml pulls in tfjs (seconds to load, native or wasm backends), so the agent loads it only
 * for the commands that use models or datasets. The relative path is deliberate: the build
 * rewrites `@concord/*` in static imports only, not in dynamic ones.
 */
export type Ml = typeof import('../../../../libs/ml/src');

export function loadMl(): Promise<Ml> {
  return import('../../../../libs/ml/src');
}
