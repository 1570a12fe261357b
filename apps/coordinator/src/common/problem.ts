import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  ParseUUIDPipe,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import type { Request, Response } from 'express';

/** One invalid input, named by its path in the request (`body.sigma`, `query.limit`, …). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** RFC 9457 problem details, the body of every error response. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
}

/** An error a service raises on bad input; it becomes a problem+json response naming the fields. */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldProblem[],
    readonly problemType = 'about:blank',
  ) {
    super({ title, detail, errors }, status);
    this.message = detail ? `${title}: ${detail}` : title;
  }
}

export class InvalidInputException extends ProblemException {
  constructor(errors: FieldProblem[], detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ')) {
    super(HttpStatus.BAD_REQUEST, 'Invalid input', detail, errors, 'https://concord.dev/problems/invalid-input');
  }
}

function flattenValidationErrors(errors: ValidationError[], prefix: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/** Strict validation: unknown properties are refused, not silently dropped. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => new InvalidInputException(flattenValidationErrors(errors, 'body')),
  });
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const problem = this.toProblem(exception);
    problem.instance = req.originalUrl?.split('?')[0];
    if (problem.status >= 500) this.logger.error({ err: exception }, 'unhandled error');
    if (res.headersSent) return;
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof ProblemException) {
      return {
        type: exception.problemType,
        title: exception.title,
        status: exception.getStatus(),
        ...(exception.detail ? { detail: exception.detail } : {}),
        ...(exception.errors ? { errors: exception.errors } : {}),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      let detail: string | undefined;
      if (typeof body === 'string') detail = body;
      else if (body && typeof body === 'object' && 'message' in body) {
        const message = body.message;
        detail = Array.isArray(message) ? message.join('; ') : String(message);
      }
      // Body-parser errors (malformed JSON, oversized bodies) arrive as BadRequest/PayloadTooLarge.
      const title =
        exception instanceof BadRequestException ? 'Bad request' : (HttpStatus[status] ?? 'Error').replace(/_/g, ' ').toLowerCase();
      return { type: 'about:blank', title: title.charAt(0).toUpperCase() + title.slice(1), status, ...(detail ? { detail } : {}) };
    }
    const bodyParserError = exception as { type?: string; status?: number; expose?: boolean; message?: string };
    if (typeof bodyParserError?.status === 'number' && bodyParserError.expose && bodyParserError.status < 500) {
      return { type: 'about:blank', title: 'Bad request', status: bodyParserError.status, detail: bodyParserError.message };
    }
    return { type: 'about:blank', title: 'Internal server error', status: 500 };
  }
}

/** A path parameter that must be a UUID; a bad one is a 400 naming `path.<name>`. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new InvalidInputException([{ field: `path.${name}`, message: 'must be a UUID' }]) });
}
