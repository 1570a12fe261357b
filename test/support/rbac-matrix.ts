export type Caller = 'anonymous' | 'admin' | 'compliance' | 'agent';
export const ALL: Caller[] = ['anonymous', 'admin', 'compliance', 'agent'];
export const STAFF: Caller[] = ['admin', 'compliance'];

/**
 * Who may call what: every route the OpenAPI document lists must appear here, and every cell is
 * checked. "Allowed" means not refused for who the caller is (401/403); the dummy ids and empty
 * bodies used here may still earn a 400 or a 404.
 */
export const MATRIX: Record<string, Caller[]> = {
  'GET /health': ALL,
  'GET /metrics': ALL,
  'GET /ledger/public-key': ALL,
  'GET /agents/coordinator': ALL,
  'POST /agents/enroll': ALL,
  'GET /ledger/verification': STAFF,
  'GET /ledger/groups/{digest}': STAFF,
  'GET /budgets': STAFF,
  'GET /budgets/{institutionId}': STAFF,
  'GET /budgets/{institutionId}/entries': STAFF,
  'PATCH /budgets/{institutionId}/cap': ['admin'],
  'POST /institutions': ['admin'],
  'GET /institutions': STAFF,
  'GET /institutions/{id}': STAFF,
  'POST /institutions/{institutionId}/enrollment-tokens': ['admin'],
  'GET /institutions/{institutionId}/enrollment-tokens': ['admin'],
  'GET /agents': STAFF,
  'GET /agents/{id}': STAFF,
  'POST /agents/{id}/revoke': ['admin'],
  'GET /agents/me': ['agent'],
  'POST /agents/me/keys/rotate': ['agent'],
  'POST /privacy/calibrate': STAFF,
  'POST /tasks': ['admin'],
  'GET /tasks': STAFF,
  'GET /tasks/{id}': STAFF,
  'POST /tasks/{id}/pool': ['admin'],
  'POST /jobs': ['admin'],
  'GET /jobs': STAFF,
  'GET /jobs/{id}': STAFF,
  'POST /jobs/{id}/start': ['admin'],
  'POST /jobs/{id}/pause': ['admin'],
  'POST /jobs/{id}/cancel': ['admin'],
  'GET /jobs/{id}/labels': ['admin'],
  'GET /jobs/{id}/student': STAFF,
  'GET /jobs/{id}/student/model.json': ['admin'],
  'GET /jobs/{id}/student/weights.bin': ['admin'],
  'GET /agent/batches/next': ['agent'],
  'POST /agent/batches/{batchId}/answers': ['agent'],
};
