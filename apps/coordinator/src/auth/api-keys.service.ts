import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ApiRole } from './entities/api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';

export interface ApiPrincipal {
  kind: 'api_key';
  id: string;
  role: ApiRole;
}

const KEY_FORMAT = /^ck_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function uuidOf(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}

/**
 * Admin and compliance API keys: `ck_<key id>_<secret>`. The secret has 256 bits from the OS
 * CSPRNG and only its SHA-256 is stored (a slow hash adds nothing for a random 256-bit secret).
 */
@Injectable()
export class ApiKeysService {
  constructor(private readonly repository: ApiKeysRepository) {}

  /** Creates a key and returns it — the only time the secret is ever visible. */
  async create(role: ApiRole, label = ''): Promise<{ id: string; role: ApiRole; key: string }> {
    const secret = randomBytes(32).toString('base64url');
    const row = await this.repository.insert(role, label, sha256Hex(secret));
    return { id: row.id, role, key: `ck_${row.id.replace(/-/g, '')}_${secret}` };
  }

  /** The principal a bearer key stands for, or null (unknown, malformed, revoked or wrong secret). */
  async authenticate(key: string): Promise<ApiPrincipal | null> {
    const match = KEY_FORMAT.exec(key);
    if (!match) return null;
    const row = await this.repository.findActive(uuidOf(match[1]));
    if (!row) return null;
    const given = Buffer.from(sha256Hex(match[2]), 'hex');
    const stored = Buffer.from(row.secretSha256, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null;
    return { kind: 'api_key', id: row.id, role: row.role };
  }
}
