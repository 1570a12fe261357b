import { InstitutionEntity } from '../institutions/entities/institution.entity';

/** Every entity of the coordinator. The schema itself comes only from migrations. */
export const ENTITIES = [InstitutionEntity];
