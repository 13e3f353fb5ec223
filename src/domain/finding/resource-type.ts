/**
 * One vocabulary for resource types. ASFF (Security Hub CSPM) names a resource type `AwsS3Bucket`;
 * OCSF (the new Security Hub) names it the CloudFormation way, `AWS::S3::Bucket`. A `Finding`
 * carries the ASFF form (`toAsffResourceType`), and `sameResourceType` lets a policy written in
 * either vocabulary match findings from both Security Hubs alike.
 *
 * Most names convert mechanically: `AWS::<Service>::<Type>` becomes `Aws<Service><Type>` with each
 * run of capitals written as one word (`EC2` → `Ec2`, `DBInstance` → `DbInstance`, `WebACL` →
 * `WebAcl`). The names that do not follow that rule, and the ones whose capitals the reverse
 * direction cannot guess (`Vpc` is `VPC`, `DbInstance` is `DBInstance`), are in `PAIRS`.
 */

/**
 * `[CloudFormation / OCSF type, ASFF type]` for every type whose conversion is not mechanical in
 * both directions, plus the ones pinned because everything depends on them.
 */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Not of the form AWS::<Service>::<Type>, or not an AWS resource type at all.
  ['AWS::::Account', 'AwsAccount'],
  /** GuardDuty Runtime Monitoring's container: ASFF's generic `Container` resource. */
  ['AWS::Container::Container', 'Container'],
  // Service names ASFF abbreviates or spells differently.
  ['AWS::ElasticLoadBalancing::LoadBalancer', 'AwsElbLoadBalancer'],
  ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AwsElbv2LoadBalancer'],
  ['AWS::StepFunctions::StateMachine', 'AwsStepFunctionStateMachine'],
  ['AWS::XRay::EncryptionConfig', 'AwsXrayEncryptionConfig'],
  ['AWS::WAFv2::WebACL', 'AwsWafv2WebAcl'],
  ['AWS::WAFv2::RuleGroup', 'AwsWafv2RuleGroup'],
  ['AWS::Events::EventBus', 'AwsEventsEventbus'],
  // Capitals the reverse direction cannot guess.
  ['AWS::EC2::VPC', 'AwsEc2Vpc'],
  ['AWS::EC2::EIP', 'AwsEc2Eip'],
  ['AWS::EC2::VPCEndpointService', 'AwsEc2VpcEndpointService'],
  ['AWS::EC2::VPCPeeringConnection', 'AwsEc2VpcPeeringConnection'],
  ['AWS::EC2::VPNConnection', 'AwsEc2VpnConnection'],
  ['AWS::RDS::DBInstance', 'AwsRdsDbInstance'],
  ['AWS::RDS::DBCluster', 'AwsRdsDbCluster'],
  ['AWS::RDS::DBSnapshot', 'AwsRdsDbSnapshot'],
  ['AWS::RDS::DBClusterSnapshot', 'AwsRdsDbClusterSnapshot'],
  ['AWS::RDS::DBSecurityGroup', 'AwsRdsDbSecurityGroup'],
  ['AWS::WAF::WebACL', 'AwsWafWebAcl'],
  ['AWS::WAFRegional::WebACL', 'AwsWafRegionalWebAcl'],
  ['AWS::AppSync::GraphQLApi', 'AwsAppSyncGraphQlApi'],
  // Pinned: mechanical, but the types findings name most.
  ['AWS::EC2::Instance', 'AwsEc2Instance'],
  ['AWS::EC2::SecurityGroup', 'AwsEc2SecurityGroup'],
  ['AWS::IAM::Role', 'AwsIamRole'],
  ['AWS::IAM::User', 'AwsIamUser'],
  ['AWS::IAM::AccessKey', 'AwsIamAccessKey'],
  ['AWS::Lambda::Function', 'AwsLambdaFunction'],
  ['AWS::S3::Bucket', 'AwsS3Bucket'],
  ['AWS::EKS::Cluster', 'AwsEksCluster'],
  ['AWS::ECR::Repository', 'AwsEcrRepository'],
  /**
   * An ECR image has no CloudFormation type; `AWS::ECR::ContainerImage` is the name Inspector's
   * resource inventory uses. A repository stays `AwsEcrRepository`: both are ASFF types of their own.
   */
  ['AWS::ECR::ContainerImage', 'AwsEcrContainerImage'],
];

/**
 * The CloudFormation service names of the ASFF types Security Hub documents (ResourceDetails),
 * for splitting an ASFF name that is not in `PAIRS` into service and type.
 */
const SERVICES: readonly string[] = [
  'AmazonMQ',
  'ApiGateway',
  'ApiGatewayV2',
  'AppSync',
  'Athena',
  'AutoScaling',
  'Backup',
  'CertificateManager',
  'CloudFormation',
  'CloudFront',
  'CloudTrail',
  'CloudWatch',
  'CodeBuild',
  'DMS',
  'DynamoDB',
  'EC2',
  'ECR',
  'ECS',
  'EFS',
  'EKS',
  'ElasticBeanstalk',
  'ElasticLoadBalancing',
  'ElasticLoadBalancingV2',
  'Elasticsearch',
  'EventSchemas',
  'Events',
  'GuardDuty',
  'IAM',
  'Kinesis',
  'KMS',
  'Lambda',
  'MSK',
  'NetworkFirewall',
  'OpenSearchService',
  'RDS',
  'Redshift',
  'Route53',
  'S3',
  'SageMaker',
  'SecretsManager',
  'SNS',
  'SQS',
  'SSM',
  'StepFunctions',
  'WAF',
  'WAFRegional',
  'WAFv2',
  'XRay',
];

const CLOUDFORMATION_FORM = /^AWS::([^:]+)::([^:]+)$/;

/** `EC2` → `Ec2`, `DBInstance` → `DbInstance`, `WebACL` → `WebAcl`, `GraphQLApi` → `GraphQlApi`. */
function wordsFromCapitals(name: string): string {
  return name.replace(/[A-Z]{2,}(?=[A-Z][a-z]|[^A-Za-z]|$)/g, (run) => run[0] + run.slice(1).toLowerCase());
}

/** Services ASFF spells its own way (the types in `PAIRS` show it). */
const SERVICE_OVERRIDES: Readonly<Record<string, string>> = {
  ElasticLoadBalancing: 'Elb',
  ElasticLoadBalancingV2: 'Elbv2',
  StepFunctions: 'StepFunction',
  XRay: 'Xray',
  WAFv2: 'Wafv2',
};

function asffService(service: string): string {
  return Object.hasOwn(SERVICE_OVERRIDES, service)
    ? (SERVICE_OVERRIDES[service] as string)
    : wordsFromCapitals(service);
}

/** ASFF service spelling → CloudFormation service name. */
const SERVICE_IN_ASFF = new Map<string, string>(SERVICES.map((service) => [asffService(service), service]));

const TO_ASFF = new Map(PAIRS.map(([cloudFormation, asff]) => [cloudFormation, asff]));
const TO_CLOUDFORMATION = new Map(PAIRS.map(([cloudFormation, asff]) => [asff, cloudFormation]));

/**
 * The ASFF name of a resource type: `AWS::S3::Bucket` → `AwsS3Bucket`. A name already in ASFF
 * form, or not an AWS type at all (`Other`, a third party's own), is returned as it is.
 */
export function toAsffResourceType(type: string): string {
  const known = TO_ASFF.get(type);
  if (known !== undefined) return known;
  const match = CLOUDFORMATION_FORM.exec(type);
  if (!match) return type;
  const [, service = '', name = ''] = match;
  return `Aws${asffService(service)}${wordsFromCapitals(name)}`;
}

/**
 * The CloudFormation (OCSF) name of a resource type: `AwsS3Bucket` → `AWS::S3::Bucket`. The type
 * part of a name outside `PAIRS` keeps ASFF's capitals (`AwsEc2Foo` → `AWS::EC2::Foo`); a name whose
 * service is not known, or that is not in ASFF form, is returned as it is.
 */
export function toCloudFormationType(type: string): string {
  const known = TO_CLOUDFORMATION.get(type);
  if (known !== undefined) return known;
  if (CLOUDFORMATION_FORM.test(type) || !/^Aws[A-Z0-9]/.test(type)) return type;
  const rest = type.slice(3);
  let best: [string, string] | undefined;
  for (const [spelling, service] of SERVICE_IN_ASFF) {
    if (rest.startsWith(spelling) && /^[A-Z]/.test(rest.slice(spelling.length))) {
      if (!best || spelling.length > best[0].length) best = [spelling, service];
    }
  }
  return best ? `AWS::${best[1]}::${rest.slice(best[0].length)}` : type;
}

/**
 * Whether two names name the same resource type, each in either vocabulary:
 * `sameResourceType('AwsS3Bucket', 'AWS::S3::Bucket')` is true. Case is ignored.
 */
export function sameResourceType(a: string, b: string): boolean {
  return toAsffResourceType(a).toLowerCase() === toAsffResourceType(b).toLowerCase();
}
