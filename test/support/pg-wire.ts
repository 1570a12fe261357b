import { connect, type Socket } from 'node:net';

/** A minimal Postgres wire-protocol client, to send messages with exact timing in tests. */
export class WireClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(port: number): Promise<WireClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const client = new WireClient(socket);
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    socket.write(startup);
    await client.readUntilReady();
    return client;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Reads backend messages up to ReadyForQuery; returns their type letters and any error text. */
  async readUntilReady(): Promise<{ types: string[]; errors: string[]; data: string[] }> {
    const types: string[] = [];
    const errors: string[] = [];
    const data: string[] = [];
    for (;;) {
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1)) {
        const length = 1 + this.buffer.readInt32BE(1);
        const type = String.fromCharCode(this.buffer[0]);
        const body = this.buffer.subarray(5, length);
        this.buffer = this.buffer.subarray(length);
        types.push(type);
        if (type === 'E') errors.push(body.toString('utf8').replace(/\0/g, ' '));
        if (type === 'D') data.push(body.subarray(6).toString('utf8'));
        if (type === 'Z') return { types, errors, data };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export const wire = {
  parse: (sql: string): Buffer => message('P', Buffer.concat([Buffer.from('\0'), Buffer.from(`${sql}\0`), int16(0)])),
  bind: (param: string): Buffer => {
    const value = Buffer.from(param);
    return message('B', Buffer.concat([Buffer.from('\0\0'), int16(0), int16(1), int32(value.length), value, int16(0)]));
  },
  execute: (): Buffer => message('E', Buffer.concat([Buffer.from('\0'), int32(0)])),
  sync: (): Buffer => message('S', Buffer.alloc(0)),
};
