/*
 * nop: the spawn floor. A statically linked program that does nothing,
 * so that fork + exec + wait of it is what any process start costs here.
 */
int
main(void)
{
	return 0;
}
