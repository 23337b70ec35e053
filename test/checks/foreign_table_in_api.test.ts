import check from '../../checks/foreign_table_in_api.ts';
import { describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check);
